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
        case .fwd:
            return [TensorSpec("x", xShape), TensorSpec("w", wShape)] + (hasBias ? [TensorSpec("b", bShape)] : [])
        case .bwdData: return [TensorSpec("dy", yShape), TensorSpec("w", wShape)]
        case .bwdWeights: return [TensorSpec("x", xShape), TensorSpec("dy", yShape)]
        default: return [TensorSpec("dy", yShape)]
        }
    }

    public func output(for direction: Direction) -> TensorSpec {
        layerOutput(direction, x: xShape, w: wShape, y: yShape) ?? TensorSpec("db", bShape)
    }
}

/// The output of the directions every layer with data `x`, weights `w` and output `y` has:
/// forward `y`, backward-data `dx`, backward-weights `dw`; nil for any other direction.
func layerOutput(_ direction: Direction, x: [Int], w: [Int], y: [Int]) -> TensorSpec? {
    switch direction {
    case .fwd: return TensorSpec("y", y)
    case .bwdData: return TensorSpec("dx", x)
    case .bwdWeights: return TensorSpec("dw", w)
    default: return nil
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
    /// Padding (conv) or crop (transposed conv) at each end of every spatial dimension.
    var resolvedPadding: (begin: [Int], end: [Int]) { get }
    /// Multiply-adds of the forward pass (each backward pass over data or weights does as many).
    var macs: Double { get }
    /// The fraction of `macs` that multiplies real input (`realProductFraction(stridedSize:denseSize:)`).
    var realProducts: Double { get }
    /// Calls `body(y, x, w)` with the offsets of the three elements of every product
    /// `y[…] += x[…] · w[…]` of the op (`ConvProducts.swift`).
    func forEachProduct(_ body: (_ y: Int, _ x: Int, _ w: Int) -> Void)
}

extension ConvolutionGeometry {
    public var spatialRank: Int { inputSize.count }

    public var padBegin: [Int] { resolvedPadding.begin }
    public var padEnd: [Int] { resolvedPadding.end }

    public var xShape: [Int] { [batch, inChannels] + inputSize }
    public var bShape: [Int] { [outChannels] }
    public var yShape: [Int] { [batch, outChannels] + outputSize }

    /// `padding` resolved to numbers: `same` / `same_lower` split `sameTotal(i)` in dimension
    /// `i` (SAME_UPPER puts the smaller half first, SAME_LOWER the larger).
    func resolvedPadding(sameTotal: (Int) -> Int) -> (begin: [Int], end: [Int]) {
        switch padding {
        case .explicit(let b, let e): return (b, e)
        case .valid: return (Array(repeating: 0, count: spatialRank), Array(repeating: 0, count: spatialRank))
        case .same, .sameLower:
            var b: [Int] = [], e: [Int] = []
            for i in 0..<spatialRank {
                let (pb, pe) = Padding.split(total: sameTotal(i), lowerFirst: padding == .sameLower)
                b.append(pb); e.append(pe)
            }
            return (b, e)
        }
    }

    /// The canonical text up to the padding: `conv2d n=2 ic=3 oc=8 g=1 in=5x5 k=3x3 s=1x1 d=1x1 p=1x1:1x1`.
    var geometryDescription: String {
        "\(opName) n=\(batch) ic=\(inChannels) oc=\(outChannels) g=\(groups) in=\(Shape.format(inputSize)) "
            + "k=\(Shape.format(kernel)) s=\(Shape.format(stride)) d=\(Shape.format(dilation)) p=\(padding)"
    }

    /// The spatial rank an op name gives: 1, 2 or 3 for the first, second or third of `opNames`.
    static func spatialRank(of fields: ProblemFields) throws(ProblemError) -> Int {
        guard let index = opNames.firstIndex(of: fields.op) else {
            throw .malformed(
                text: fields.text,
                reason: "op '\(fields.op)' is not \(opNames.dropLast().joined(separator: ", ")) or \(opNames.last!)")
        }
        return index + 1
    }

    /// `N · C_strided · ∏strided · C_dense/g · ∏k`: every product of `ConvProducts`, those
    /// with a tap in the padding (or the crop) included. The strided side is y for a
    /// convolution and x for a transposed one; the dense side's channels per group are
    /// `wShape[1]`.
    func nominalMACs(stridedChannels: Int, stridedSize: [Int]) -> Double {
        Double(batch) * Double(stridedChannels) * Double(stridedSize.reduce(1, *)) * Double(wShape[1])
            * Double(kernel.reduce(1, *))
    }

    /// The fraction of `nominalMACs` whose dense position `o·s − pb + k·d` lies in the dense
    /// side, per dimension `#{(o, k) : 0 ≤ o·s − pb + k·d < D} / (S·K)`, multiplied over the
    /// dimensions (1 when there are no products). A 16 × 16 output of 5 × 5 taps with padding
    /// 2: 74 of 80 (o, k) pairs per dimension, (74/80)² = 85.6 %.
    func realProductFraction(stridedSize: [Int], denseSize: [Int]) -> Double {
        var fraction = 1.0
        for dim in 0..<spatialRank {
            let pairs = stridedSize[dim] * kernel[dim]
            if pairs == 0 { return 1 }
            let real = KernelTaps.triples(
                stridedSize: stridedSize[dim], denseSize: denseSize[dim], kernel: kernel[dim], stride: stride[dim],
                dilation: dilation[dim], padBegin: padBegin[dim]
            ).count
            fraction *= Double(real) / Double(pairs)
        }
        return fraction
    }

    /// Terms per output element: forward, `C_in/g` channels per tap (plus the bias);
    /// backward-data, `C_out/g` per tap; backward-weights, one per image and strided position
    /// (`stridedSize`: the output of a convolution, the input of a transposed one);
    /// backward-bias, one per image and output position.
    func accumulationLength(for direction: Direction, stridedSize: [Int]) -> Int {
        let taps = kernel.reduce(1, *)
        let inPerGroup = groups > 0 ? inChannels / groups : 0, outPerGroup = groups > 0 ? outChannels / groups : 0
        switch direction {
        case .fwd: return inPerGroup * taps + (hasBias ? 1 : 0)
        case .bwdData: return outPerGroup * taps
        case .bwdWeights: return batch * stridedSize.reduce(1, *)
        default: return batch * outputSize.reduce(1, *)
        }
    }

    /// `2·macs` for the forward and the data / weight gradients; one add per output element
    /// for the bias gradient.
    public func flops(for direction: Direction) -> Double {
        switch direction {
        case .fwd, .bwdData, .bwdWeights: return 2 * macs
        default: return Double(batch * outChannels * outputSize.reduce(1, *))
        }
    }

    /// The three product directions share one set of products (each is the adjoint of the
    /// forward): `realProducts`; the bias gradient's adds all count.
    public func realProductFraction(for direction: Direction) -> Double {
        switch direction {
        case .fwd, .bwdData, .bwdWeights: return realProducts
        default: return 1
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
        try check(
            inputSize.allSatisfy { $0 >= minimumInputSize }, op, "in",
            "spatial sizes must be ≥ \(minimumInputSize), got \(Shape.format(inputSize))")
        try check(kernel.allSatisfy { $0 >= 1 }, op, "k", "kernel sizes must be ≥ 1, got \(Shape.format(kernel))")
        try check(stride.allSatisfy { $0 >= 1 }, op, "s", "strides must be ≥ 1, got \(Shape.format(stride))")
        try check(dilation.allSatisfy { $0 >= 1 }, op, "d", "dilations must be ≥ 1, got \(Shape.format(dilation))")
        if case .explicit(let b, let e) = padding {
            try check(
                b.count == spatialRank && e.count == spatialRank, op, "p", "needs \(spatialRank) begin and end entries")
            try check((b + e).allSatisfy { $0 >= 0 }, op, "p", "padding must be ≥ 0, got \(padding)")
        }
    }
}
