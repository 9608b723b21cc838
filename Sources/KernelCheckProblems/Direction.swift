import KernelCheckCore

/// One computation an op offers: the forward pass or the gradient w.r.t. one of its inputs.
///
/// For matmul `C = op(A)·op(B)`, `bwdData` is ∂L/∂A and `bwdWeights` is ∂L/∂B.
public enum Direction: String, CaseIterable, Hashable, Sendable, Codable, Comparable {
    case fwd
    case bwdData = "bwd_data"
    case bwdWeights = "bwd_weights"
    case bwdBias = "bwd_bias"
    case bwdGamma = "bwd_gamma"
    case bwdBeta = "bwd_beta"

    public static func < (a: Direction, b: Direction) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The op families; the raw value names the fixture file (`fixtures/<family>.h5`) and the
/// `--op` filter of the CLI.
public enum OpFamily: String, CaseIterable, Hashable, Sendable, Codable, Comparable {
    case conv
    case convTranspose = "conv_transpose"
    case padProjectionA = "padproj_a"
    case padProjectionB = "padproj_b"
    case matmul
    case linear
    case activation
    case loss

    public static func < (a: OpFamily, b: OpFamily) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A named tensor of a problem: `x`, `w`, `b`, `dy`, `y`, `dx`, `dw`, `db`, `gamma`, …
public struct TensorSpec: Hashable, Sendable, CustomStringConvertible {
    public var role: String
    public var shape: [Int]
    public init(_ role: String, _ shape: [Int]) { self.role = role; self.shape = shape }
    public var description: String { "\(role)[\(Shape.format(shape))]" }
}
