import KernelCheckCore

/// Ops with data `x`, weights `w`, an optional bias `b` and output `y` — convolution,
/// transposed convolution, linear — share their roles and directions:
/// forward `x, w, (b) → y`; backward-data `dy, w → dx`; backward-weights `x, dy → dw`;
/// backward-bias `dy → db` (only with a bias).
public protocol WeightedLayerProblem: ProblemDescriptor {
    var xShape: [Int] { get }
    var wShape: [Int] { get }
    var bShape: [Int] { get }
    var yShape: [Int] { get }
    var hasBias: Bool { get }
}

extension WeightedLayerProblem {
    public var directions: [Direction] {
        hasBias ? [.fwd, .bwdData, .bwdWeights, .bwdBias] : [.fwd, .bwdData, .bwdWeights]
    }

    public func inputs(for direction: Direction) -> [TensorSpec] {
        switch direction {
        case .fwd: return [TensorSpec("x", xShape), TensorSpec("w", wShape)] + (hasBias ? [TensorSpec("b", bShape)] : [])
        case .bwdData: return [TensorSpec("dy", yShape), TensorSpec("w", wShape)]
        case .bwdWeights: return [TensorSpec("x", xShape), TensorSpec("dy", yShape)]
        default: return [TensorSpec("dy", yShape)]
        }
    }

    public func output(for direction: Direction) -> TensorSpec {
        switch direction {
        case .fwd: return TensorSpec("y", yShape)
        case .bwdData: return TensorSpec("dx", xShape)
        case .bwdWeights: return TensorSpec("dw", wShape)
        default: return TensorSpec("db", bShape)
        }
    }
}

/// The geometry convolution and transposed convolution share, and the checks on it.
public protocol ConvolutionGeometry: WeightedLayerProblem {
    var batch: Int { get }
    var inChannels: Int { get }
    var outChannels: Int { get }
    var groups: Int { get }
    var inputSize: [Int] { get }
    var kernel: [Int] { get }
    var stride: [Int] { get }
    var dilation: [Int] { get }
    var padding: Padding { get }
    var outputSize: [Int] { get }
    /// Multiply-adds of the forward pass (each backward pass over data or weights does as many).
    var macs: Double { get }
    /// Calls `body(y, x, w)` with the offsets of the three elements of every product
    /// `y[…] += x[…] · w[…]` of the op (`ConvProducts.swift`).
    func forEachProduct(_ body: (_ y: Int, _ x: Int, _ w: Int) -> Void)
}

extension ConvolutionGeometry {
    public var spatialRank: Int { inputSize.count }

    /// `2·macs` for the forward and the data / weight gradients; one add per output element
    /// for the bias gradient.
    public func flops(for direction: Direction) -> Double {
        switch direction {
        case .fwd, .bwdData, .bwdWeights: return 2 * macs
        default: return Double(batch * outChannels * outputSize.reduce(1, *))
        }
    }

    /// The checks both convolutions need: rank 1–3 with matching list lengths, non-negative
    /// sizes, groups dividing both channel counts, kernel / stride / dilation ≥ 1, explicit
    /// padding ≥ 0. `minimumInputSize` is 0 for conv (padding can supply every pixel) and 1
    /// for transposed conv.
    func validateGeometry(minimumInputSize: Int) throws(ProblemError) {
        let op = opName
        try check((1...3).contains(spatialRank), op, "in", "spatial rank must be 1, 2 or 3, got \(spatialRank)")
        for (name, list) in [("k", kernel), ("s", stride), ("d", dilation)] {
            try check(list.count == spatialRank, op, name, "needs \(spatialRank) entries, got \(list.count)")
        }
        try check(batch >= 0, op, "n", "batch must be ≥ 0, got \(batch)")
        try check(inChannels >= 0, op, "ic", "must be ≥ 0, got \(inChannels)")
        try check(outChannels >= 0, op, "oc", "must be ≥ 0, got \(outChannels)")
        try check(groups >= 1, op, "g", "groups must be ≥ 1, got \(groups)")
        try check(inChannels % groups == 0, op, "g", "groups \(groups) do not divide ic=\(inChannels)")
        try check(outChannels % groups == 0, op, "g", "groups \(groups) do not divide oc=\(outChannels)")
        try check(inputSize.allSatisfy { $0 >= minimumInputSize }, op, "in",
                  "spatial sizes must be ≥ \(minimumInputSize), got \(Shape.format(inputSize))")
        try check(kernel.allSatisfy { $0 >= 1 }, op, "k", "kernel sizes must be ≥ 1, got \(Shape.format(kernel))")
        try check(stride.allSatisfy { $0 >= 1 }, op, "s", "strides must be ≥ 1, got \(Shape.format(stride))")
        try check(dilation.allSatisfy { $0 >= 1 }, op, "d", "dilations must be ≥ 1, got \(Shape.format(dilation))")
        if case .explicit(let b, let e) = padding {
            try check(b.count == spatialRank && e.count == spatialRank, op, "p", "needs \(spatialRank) begin and end entries")
            try check((b + e).allSatisfy { $0 >= 0 }, op, "p", "padding must be ≥ 0, got \(padding)")
        }
    }
}
