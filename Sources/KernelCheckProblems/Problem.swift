import KernelCheckCore

/// Any problem of any op: the type the CLI, fixtures and engine pass around.
///
/// `Problem.parse` tokenizes, dispatches on the op name, builds the descriptor and validates
/// it, so a `Problem` value is always valid. `description` is the canonical string and
/// `parse(p.description) == p`.
public enum Problem: Hashable, Sendable, CustomStringConvertible {
    case conv(ConvProblem)
    case convTranspose(ConvTransposeProblem)
    case padProjectionA(PadProjectionAProblem)
    case padProjectionB(PadProjectionBProblem)
    case matmul(MatmulProblem)
    case linear(LinearProblem)
    case activation(ActivationProblem)
    case loss(LossProblem)

    /// The descriptor inside, as the protocol every op shares.
    public var descriptor: any ProblemDescriptor {
        switch self {
        case .conv(let p): return p
        case .convTranspose(let p): return p
        case .padProjectionA(let p): return p
        case .padProjectionB(let p): return p
        case .matmul(let p): return p
        case .linear(let p): return p
        case .activation(let p): return p
        case .loss(let p): return p
        }
    }

    /// Wraps any descriptor (validating it).
    public init(_ descriptor: any ProblemDescriptor) throws(ProblemError) {
        try descriptor.validate()
        switch descriptor {
        case let p as ConvProblem: self = .conv(p)
        case let p as ConvTransposeProblem: self = .convTranspose(p)
        case let p as PadProjectionAProblem: self = .padProjectionA(p)
        case let p as PadProjectionBProblem: self = .padProjectionB(p)
        case let p as MatmulProblem: self = .matmul(p)
        case let p as LinearProblem: self = .linear(p)
        case let p as ActivationProblem: self = .activation(p)
        case let p as LossProblem: self = .loss(p)
        default: throw .malformed(text: "\(descriptor)", reason: "unknown descriptor type \(type(of: descriptor))")
        }
    }

    static let types: [any ProblemDescriptor.Type] = [
        ConvProblem.self, ConvTransposeProblem.self, PadProjectionAProblem.self, PadProjectionBProblem.self,
        MatmulProblem.self, LinearProblem.self, ActivationProblem.self, LossProblem.self,
    ]

    /// Every op name the parser accepts.
    public static var opNames: [String] { types.flatMap { $0.opNames } }

    /// Parses and validates a problem string.
    public static func parse(_ text: String) throws(ProblemError) -> Problem {
        let fields = try ProblemFields(parsing: text)
        guard let type = types.first(where: { $0.opNames.contains(fields.op) }) else {
            throw .malformed(text: text, reason: "unknown op '\(fields.op)'; known: \(opNames.joined(separator: ", "))")
        }
        return try Problem(try type.init(fields: fields))
    }

    public var description: String { descriptor.description }
    public var family: OpFamily { descriptor.family }
    public var directions: [Direction] { descriptor.directions }
}

/// The errors of the checked entry points (the reference's and the implementations'): they
/// name a missing or misshapen input with the same fields, so one check serves both.
public protocol InputCheckError: Error {
    static func missingInput(problem: String, direction: Direction, role: String) -> Self
    static func shapeMismatch(problem: String, role: String, expected: [Int], found: [Int]) -> Self
}

extension Problem {
    /// Throws for the first input role of `direction`, in the descriptor's order, that
    /// `shape(role)` lacks (nil) or gives another shape than the descriptor declares.
    public func checkInputs<E: InputCheckError>(
        for direction: Direction, as _: E.Type, shape: (String) -> [Int]?
    ) throws(E) {
        for spec in descriptor.inputs(for: direction) {
            guard let found = shape(spec.role) else {
                throw E.missingInput(problem: description, direction: direction, role: spec.role)
            }
            guard found == spec.shape else {
                throw E.shapeMismatch(problem: description, role: spec.role, expected: spec.shape, found: found)
            }
        }
    }
}
