import KernelCheckCore

/// Elementwise activations and their derivatives (PyTorch conventions).
public enum ActivationKind: Hashable, Sendable {
    /// `max(x, 0)`; derivative 1 for x > 0, 0 for x ≤ 0 (0 at the kink, as PyTorch).
    case relu
    /// `x` for x > 0, `slope·x` otherwise; derivative 1 or `slope` (slope at 0).
    case leakyRelu(slope: Double)
    /// `1/(1+e^{−x})`; derivative `σ(x)(1−σ(x))`.
    case sigmoid
    /// `tanh x`; derivative `1 − tanh² x`.
    case tanh

    public var name: String {
        switch self {
        case .relu: return "relu"
        case .leakyRelu: return "leaky_relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        }
    }
}

/// An activation applied elementwise to `x` of any shape. `bwd_data`: `dx = f′(x)·dy`.
///
/// Canonical text: `relu shape=2x3`, `leaky_relu shape=2x3 slope=0.01`, `sigmoid shape=…`, `tanh shape=…`.
public struct ActivationProblem: ProblemDescriptor {
    public var kind: ActivationKind
    public var shape: [Int]

    public init(_ kind: ActivationKind, shape: [Int]) {
        self.kind = kind
        self.shape = shape
    }

    public static let family = OpFamily.activation
    public static let opNames = ["relu", "leaky_relu", "sigmoid", "tanh"]
    public var opName: String { kind.name }

    public func validate() throws(ProblemError) {
        try check(shape.allSatisfy { $0 >= 0 }, opName, "shape", "dimensions must be ≥ 0, got \(Shape.format(shape))")
        if case .leakyRelu(let slope) = kind {
            try check(slope.isFinite, opName, "slope", "must be finite, got \(slope)")
        }
        try checkMemoryBudget()
    }

    public var directions: [Direction] { [.fwd, .bwdData] }
    public func inputs(for direction: Direction) -> [TensorSpec] {
        direction == .fwd ? [TensorSpec("x", shape)] : [TensorSpec("x", shape), TensorSpec("dy", shape)]
    }
    public func output(for direction: Direction) -> TensorSpec {
        direction == .fwd ? TensorSpec("y", shape) : TensorSpec("dx", shape)
    }
    public func flops(for direction: Direction) -> Double { Double(shape.reduce(1, *)) }
    public func accumulationLength(for direction: Direction) -> Int { 1 }

    public var description: String {
        if case .leakyRelu(let slope) = kind {
            return "leaky_relu shape=\(Shape.format(shape)) slope=\(formatNumber(slope))"
        }
        return "\(opName) shape=\(Shape.format(shape))"
    }

    public init(fields: ProblemFields) throws(ProblemError) {
        var f = fields
        let shape = try f.dims("shape")
        switch f.op {
        case "relu": self.init(.relu, shape: shape)
        case "leaky_relu": self.init(.leakyRelu(slope: try f.double("slope", default: 0.01)), shape: shape)
        case "sigmoid": self.init(.sigmoid, shape: shape)
        case "tanh": self.init(.tanh, shape: shape)
        default: throw .malformed(text: f.text, reason: "op '\(f.op)' is not an activation")
        }
        _ = try f.precision(supported: false)
        try f.finish()
    }
}

/// Losses between a prediction `x` and a `target` of the same shape, producing a scalar.
public enum LossKind: String, Hashable, Sendable {
    /// `L = (1/n)·Σ (x − t)²` (PyTorch `MSELoss()`); `dL/dx = (2/n)(x − t)`.
    case mse
    /// `L = Σ (x − t)²` (`MSELoss(reduction='sum')`; with t = 0 the `Σ m²` of the user
    /// question); `dL/dx = 2(x − t)`.
    case sumOfSquares = "sumsq"
}

/// A loss; `bwd_data` takes the upstream scalar `dy` (1 for a plain gradient) and gives
/// `dx = dy · dL/dx`.
///
/// Canonical text: `mse shape=4x3`, `sumsq shape=4x3`.
public struct LossProblem: ProblemDescriptor {
    public var kind: LossKind
    public var shape: [Int]

    public init(_ kind: LossKind, shape: [Int]) {
        self.kind = kind
        self.shape = shape
    }

    public static let family = OpFamily.loss
    public static let opNames = ["mse", "sumsq"]
    public var opName: String { kind.rawValue }

    public func validate() throws(ProblemError) {
        try check(shape.allSatisfy { $0 >= 0 }, opName, "shape", "dimensions must be ≥ 0, got \(Shape.format(shape))")
        try check(
            kind != .mse || Shape.elementCount(shape) != 0, opName, "shape", "the mean of zero elements is undefined")
        try checkMemoryBudget()
    }

    public var directions: [Direction] { [.fwd, .bwdData] }
    public func inputs(for direction: Direction) -> [TensorSpec] {
        direction == .fwd
            ? [TensorSpec("x", shape), TensorSpec("target", shape)]
            : [TensorSpec("x", shape), TensorSpec("target", shape), TensorSpec("dy", [])]
    }
    public func output(for direction: Direction) -> TensorSpec {
        direction == .fwd ? TensorSpec("y", []) : TensorSpec("dx", shape)
    }
    public func flops(for direction: Direction) -> Double { 3 * Double(shape.reduce(1, *)) }
    public func accumulationLength(for direction: Direction) -> Int { direction == .fwd ? shape.reduce(1, *) : 1 }

    public var description: String { "\(opName) shape=\(Shape.format(shape))" }

    public init(fields: ProblemFields) throws(ProblemError) {
        var f = fields
        guard let kind = LossKind(rawValue: f.op) else {
            throw .malformed(text: f.text, reason: "op '\(f.op)' is not a loss")
        }
        self.init(kind, shape: try f.dims("shape"))
        _ = try f.precision(supported: false)
        try f.finish()
    }
}
