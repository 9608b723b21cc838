import KernelCheckCore

/// What every op's descriptor offers: validation, shapes per direction, FLOPs, the
/// accumulation length that the error bound needs, and a canonical one-line string that
/// parses back to the same value (`LosslessStringConvertible`, benchdnn-style repro line).
public protocol ProblemDescriptor: Hashable, Sendable, LosslessStringConvertible {
    static var family: OpFamily { get }
    /// Op names accepted as the first token of the problem string.
    static var opNames: [String] { get }
    /// The first token printed for this value (e.g. `conv2d`).
    var opName: String { get }
    /// Throws `ProblemError` naming the first bad field. Also checks the memory budget.
    func validate() throws(ProblemError)
    /// Directions this problem supports (e.g. no `bwd_bias` without a bias).
    var directions: [Direction] { get }
    /// Input tensors a direction reads, in a fixed order.
    func inputs(for direction: Direction) -> [TensorSpec]
    /// The tensor a direction produces.
    func output(for direction: Direction) -> TensorSpec
    /// Floating-point operations of one direction (a multiply-add counts 2).
    func flops(for direction: Direction) -> Double
    /// The fraction of `flops(for:)` that multiplies real input: below 1 where the count
    /// includes products with zero padding (a convolution's) or products that land in a
    /// transposed convolution's crop. A kernel that skips those does less work for the same
    /// count. 1 for every other op.
    func realProductFraction(for direction: Direction) -> Double
    /// Largest number of products summed into one output element of a direction
    /// (the K of the forward error bound γ_K·(|A|·|B|)).
    func accumulationLength(for direction: Direction) -> Int
    /// Number formats of inputs, accumulation and output (float32 unless the op stores one).
    var precision: Precision { get }
    /// Parses a tokenized problem string; `init?(_:)` and `Problem.parse` build on it.
    init(fields: ProblemFields) throws(ProblemError)
}

extension ProblemDescriptor {
    public var family: OpFamily { Self.family }
    public var precision: Precision { .float32 }
    public func realProductFraction(for direction: Direction) -> Double { 1 }

    public init?(_ description: String) {
        guard let fields = try? ProblemFields(parsing: description),
            Self.opNames.contains(fields.op),
            let value = try? Self(fields: fields)
        else { return nil }
        self = value
    }

    /// Every tensor of every direction, each role once (for the memory budget and fixtures).
    public var allTensors: [TensorSpec] {
        var seen = Set<String>()
        var out: [TensorSpec] = []
        for d in directions {
            for t in inputs(for: d) + [output(for: d)] where seen.insert(t.role).inserted {
                out.append(t)
            }
        }
        return out
    }

    /// The most elements a tensor may have with its zero-sized dimensions taken as 1 (2³²).
    /// A tensor with a zero dimension needs no memory, but FLOP counts and accumulation
    /// lengths multiply its other dimensions (and, once, a channel count up to 2³⁰): this
    /// bound keeps those products inside `Int`.
    public static var maxNominalElements: Int { 1 << 32 }

    /// Checks that all tensors of the problem, stored as Double, fit the memory budget, and
    /// that no tensor is absurdly large even where a zero dimension makes it empty.
    public func checkMemoryBudget() throws(ProblemError) {
        var total = 0
        for t in allTensors {
            guard let n = Shape.elementCount(t.shape) else {
                throw .exceedsMemoryBudget(op: opName, bytes: Int.max, budget: MemoryBudget.bytes)
            }
            let (bytes, o1) = n.multipliedReportingOverflow(by: 8)
            let (sum, o2) = total.addingReportingOverflow(bytes)
            if o1 || o2 { throw .exceedsMemoryBudget(op: opName, bytes: Int.max, budget: MemoryBudget.bytes) }
            total = sum
        }
        if total > MemoryBudget.bytes {
            throw .exceedsMemoryBudget(op: opName, bytes: total, budget: MemoryBudget.bytes)
        }
        // Within the budget, a tensor can still be absurd where a zero dimension empties it.
        for t in allTensors {
            var nominal = 1
            for d in t.shape where d > 0 {
                let (p, overflow) = nominal.multipliedReportingOverflow(by: d)
                guard !overflow, p <= Self.maxNominalElements else {
                    throw .invalidField(
                        op: opName, field: t.role,
                        reason:
                            "shape \(Shape.format(t.shape)) is too large: its non-zero dimensions multiply to more than \(Self.maxNominalElements)"
                    )
                }
                nominal = p
            }
        }
    }
}
