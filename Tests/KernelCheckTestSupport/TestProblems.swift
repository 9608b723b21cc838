import KernelCheckCore
import KernelCheckProblems
import KernelCheckVerification
import Testing

/// Convolution or transposed convolution: the argument of the tests written once for both
/// ops (each test target extends it with the entry points it tests).
public enum ConvOp: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case conv, convTranspose

    public var testDescription: String { rawValue }
}

/// Random convolutions and transposed convolutions for the tests: the product's own generator
/// (`ProblemGenerator`, `GeneratorSize.small`: ≤ 20k MACs, ranks 1–3, every padding mode,
/// stride > kernel, dilation with stride, groups and depthwise, tile-edge sizes, empty batch
/// and channels now and then), optionally redrawn until a test's condition holds.
public enum TestProblems {
    /// The next convolution drawn from `rng` that `accept` takes.
    public static func conv(_ rng: inout SeededRNG, where accept: (ConvProblem) -> Bool = { _ in true }) -> ConvProblem
    {
        while true {
            if case .conv(let p) = ProblemGenerator.random(.conv, rng: &rng), accept(p) { return p }
        }
    }

    /// The next transposed convolution drawn from `rng` that `accept` takes.
    public static func convTranspose(
        _ rng: inout SeededRNG, where accept: (ConvTransposeProblem) -> Bool = { _ in true }
    ) -> ConvTransposeProblem {
        while true {
            if case .convTranspose(let p) = ProblemGenerator.random(.convTranspose, rng: &rng), accept(p) { return p }
        }
    }

    /// The convolution of sweep case `seed` (its own RNG stream).
    public static func conv(seed: UInt64) -> ConvProblem {
        var rng = SeededRNG(seed: seed, stream: "conv-problem")
        return conv(&rng)
    }

    /// The transposed convolution of sweep case `seed` (its own RNG stream).
    public static func convTranspose(seed: UInt64) -> ConvTransposeProblem {
        var rng = SeededRNG(seed: seed, stream: "convt-problem")
        return convTranspose(&rng)
    }

    /// Whether x, w and y all hold elements (a finite-difference check needs coordinates).
    public static func hasNoEmptyTensor(_ p: some WeightedLayerProblem) -> Bool {
        [p.xShape, p.wShape, p.yShape].allSatisfy { $0.reduce(1, *) > 0 }
    }

    /// Whether `output_padding < stride` in every dimension: then the adjoint convolution's
    /// output has exactly the transposed convolution's input size.
    public static func outputPaddingBelowStride(_ p: ConvTransposeProblem) -> Bool {
        zip(p.outputPadding, p.stride).allSatisfy { $0 < $1 }
    }
}
