import KernelCheckCore

/// A transposed convolution (the adjoint of `ConvProblem`'s map x ↦ y w.r.t. x).
///
/// Shapes: `x = N × C_in × in…`, `w = C_in × C_out/g × k…`, `b = C_out`, `y = N × C_out × out…`
/// with `out = (in−1)·s − pb − pe + d·(k−1) + output_padding + 1` and
/// `0 ≤ output_padding < max(s, d)`. Forward (scatter form):
/// `y[n, co, i·s − pb + k·d] += x[n, ci, i] · w[ci, co − g·C_out/G, k]` for `co` in `ci`'s group.
/// `same` (Keras/ONNX SAME_UPPER) gives `out = in·s`: total crop `d·(k−1) + 1 + op − s`,
/// begin = ⌊total/2⌋ (k4 s2 → crop 1 and 1: the GAN generator's 16 → 32).
///
/// Canonical text: `convt2d n=1 ic=4 oc=2 g=1 in=3x3 k=4x4 s=2x2 d=1x1 p=1x1:1x1 op=0x0 bias=1`.
public struct ConvTransposeProblem: ConvolutionGeometry {
    public var batch: Int
    public var inChannels: Int
    public var outChannels: Int
    public var groups: Int
    public var inputSize: [Int]
    public var kernel: [Int]
    public var stride: [Int]
    public var dilation: [Int]
    public var padding: Padding
    public var outputPadding: [Int]
    public var hasBias: Bool
    public var precision: Precision = .float32

    public init(
        batch: Int, inChannels: Int, outChannels: Int, groups: Int = 1,
        inputSize: [Int], kernel: [Int], stride: [Int]? = nil, dilation: [Int]? = nil,
        padding: Padding = .valid, outputPadding: [Int]? = nil, hasBias: Bool = true
    ) {
        let r = inputSize.count
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.groups = groups
        self.inputSize = inputSize
        self.kernel = kernel
        self.stride = stride ?? Array(repeating: 1, count: r)
        self.dilation = dilation ?? Array(repeating: 1, count: r)
        self.padding = padding
        self.outputPadding = outputPadding ?? Array(repeating: 0, count: r)
        self.hasBias = hasBias
    }

    public static let family = OpFamily.convTranspose
    public static let opNames = ["convt1d", "convt2d", "convt3d"]
    public var opName: String { "convt\(spatialRank)d" }

    /// Crop at each end of the full ("valid") transposed output, resolved from the mode.
    public var resolvedPadding: (begin: [Int], end: [Int]) {
        resolvedPadding(sameTotal: { i in dilation[i] * (kernel[i] - 1) + 1 + outputPadding[i] - stride[i] })
    }

    public var outputSize: [Int] {
        let (pb, pe) = resolvedPadding
        return (0..<spatialRank).map { i in
            max(
                (inputSize[i] - 1) * stride[i] - pb[i] - pe[i] + dilation[i] * (kernel[i] - 1) + outputPadding[i] + 1, 0
            )
        }
    }

    public var wShape: [Int] { [inChannels, groups > 0 ? outChannels / groups : 0] + kernel }

    /// The convolution whose backward-data this op computes: same geometry with the roles of
    /// input and output swapped (`conv(y-shaped input) → x-shaped output`). benchdnn's
    /// deconv reference is exactly this; here it is used only in tests, as an identity.
    /// Its output size equals `in` when `output_padding < s` (always so unless `d > s`).
    public var adjointConvolution: ConvProblem {
        ConvProblem(
            batch: batch, inChannels: outChannels, outChannels: inChannels, groups: groups,
            inputSize: outputSize, kernel: kernel, stride: stride, dilation: dilation,
            padding: .explicit(begin: padBegin, end: padEnd), hasBias: false)
    }

    public func validate() throws(ProblemError) {
        try precision.validate(op: opName)
        try validateGeometry(minimumInputSize: 1)
        let op = opName
        try check(
            outputPadding.count == spatialRank, op, "op", "needs \(spatialRank) entries, got \(outputPadding.count)")
        for i in 0..<spatialRank {
            try check(
                outputPadding[i] >= 0 && outputPadding[i] < max(stride[i], dilation[i]), op, "op",
                "output_padding \(outputPadding[i]) must be in [0, max(s, d)) = [0, \(max(stride[i], dilation[i])))")
        }
        if padding == .same || padding == .sameLower {
            for i in 0..<spatialRank {
                let total = dilation[i] * (kernel[i] - 1) + 1 + outputPadding[i] - stride[i]
                try check(
                    total >= 0, op, "p",
                    "same needs d·(k−1)+1+op ≥ s, got \(dilation[i] * (kernel[i] - 1) + 1 + outputPadding[i]) < \(stride[i]) in dimension \(i)"
                )
            }
        }
        let (pb, pe) = resolvedPadding
        for i in 0..<spatialRank {
            let full = (inputSize[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + outputPadding[i] + 1
            try check(
                pb[i] + pe[i] < full, op, "p",
                "cropping \(pb[i] + pe[i]) removes the whole output of size \(full) in dimension \(i)")
        }
        try checkMemoryBudget()
    }

    /// Multiply-adds of the scatter form (including products that land in the crop):
    /// `N · C_in · ∏in · (C_out/g) · ∏k`.
    public var macs: Double { nominalMACs(stridedChannels: inChannels, stridedSize: inputSize) }
    /// The fraction of `macs` whose output position is in y, not in the crop.
    public var realProducts: Double { realProductFraction(stridedSize: inputSize, denseSize: outputSize) }

    public func accumulationLength(for direction: Direction) -> Int {
        accumulationLength(for: direction, stridedSize: inputSize)
    }

    public var description: String {
        "\(geometryDescription) op=\(Shape.format(outputPadding)) bias=\(hasBias ? 1 : 0)\(precision.fieldsDescription)"
    }

    public init(fields: ProblemFields) throws(ProblemError) {
        var f = fields
        let rank = try Self.spatialRank(of: f)
        let ones = Array(repeating: 1, count: rank), zeros = Array(repeating: 0, count: rank)
        self.init(
            batch: try f.int("n"), inChannels: try f.int("ic"), outChannels: try f.int("oc"),
            groups: try f.int("g", default: 1),
            inputSize: try f.dims("in", rank: rank), kernel: try f.dims("k", rank: rank),
            stride: try f.dims("s", rank: rank, default: ones), dilation: try f.dims("d", rank: rank, default: ones),
            padding: try Padding.parse(f.raw("p") ?? "valid", rank: rank, problemText: f.text),
            outputPadding: try f.dims("op", rank: rank, default: zeros),
            hasBias: try f.bool("bias", default: false))
        precision = try f.precision()
        try f.finish()
    }
}
