import KernelCheckCore
import KernelCheckProblems

/// Why `Reference.run` refused a request. Every case names the problem by its canonical
/// string (the one-line repro), so a message read in a log says which case was at fault.
public enum ReferenceError: InputCheckError, Equatable, Sendable, CustomStringConvertible {
    /// The problem does not offer `direction` (e.g. `bwd_bias` of a layer without bias), or
    /// the reference has no implementation of it; `supported` lists what can be asked for.
    case unsupportedDirection(problem: String, direction: Direction, supported: [Direction])
    /// `direction` reads the tensor `role` and it was not among the inputs.
    case missingInput(problem: String, direction: Direction, role: String)
    /// The tensor given for `role` does not have the shape the problem implies.
    case shapeMismatch(problem: String, role: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .unsupportedDirection(let problem, let direction, let supported):
            let list = supported.isEmpty ? "none" : supported.map(\.rawValue).joined(separator: ", ")
            return "\(problem): the reference does not compute \(direction.rawValue) (supported: \(list))"
        case .missingInput(let problem, let direction, let role):
            return "\(problem): \(direction.rawValue) needs input '\(role)', which was not given"
        case .shapeMismatch(let problem, let role, let expected, let found):
            return "\(problem): input '\(role)' has shape \(Shape.format(found)), expected \(Shape.format(expected))"
        }
    }
}

extension Reference {
    /// Traps when a tensor handed to an unchecked reference function has the wrong shape:
    /// that is a bug in the caller (checked input goes through `Reference.run`), and reading
    /// past a tensor's end would otherwise give wrong numbers silently or trap obscurely.
    static func requireShape<T>(_ t: Tensor<T>, _ expected: [Int], role: String, of problem: some ProblemDescriptor) {
        precondition(
            t.shape == expected,
            "\(problem): '\(role)' has shape \(Shape.format(t.shape)), expected \(Shape.format(expected))")
    }
}
