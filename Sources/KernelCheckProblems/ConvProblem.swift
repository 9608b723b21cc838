import KernelCheckCore

/// A convolution (1-D, 2-D or 3-D) in PyTorch's NC… layout.
///
/// Shapes: `x = N × C_in × in…`, `w = C_out × C_in/g × k…`, `b = C_out`,
/// `y = N × C_out × out…` with, per spatial dimension,
/// `out = ⌊(in + pb + pe − d·(k−1) − 1) / s⌋ + 1`.
/// Forward: `y[n, co, o…] = b[co] + Σ_{ci ∈ group(co)} Σ_{k…} w[co, ci, k…] · x[n, ci, o·s − pb + k·d]`
/// (terms whose input index falls in the padding are zero).
///
/// Canonical text: `conv2d n=2 ic=3 oc=8 g=1 in=5x5 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=1`.
public struct ConvProblem: ConvolutionGeometry {
    public var batch: Int
    public var inChannels: Int
    public var outChannels: Int
    public var groups: Int
    public var inputSize: [Int]
    public var kernel: [Int]
    public var stride: [Int]
    public var dilation: [Int]
    public var padding: Padding
    public var hasBias: Bool
    public var precision: Precision = .float32

    public init(
        batch: Int, inChannels: Int, outChannels: Int, groups: Int = 1,
        inputSize: [Int], kernel: [Int], stride: [Int]? = nil, dilation: [Int]? = nil,
        padding: Padding = .valid, hasBias: Bool = true
    ) {
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.groups = groups
        self.inputSize = inputSize
        self.kernel = kernel
        self.stride = stride ?? Array(repeating: 1, count: inputSize.count)
        self.dilation = dilation ?? Array(repeating: 1, count: inputSize.count)
        self.padding = padding
        self.hasBias = hasBias
    }

    public static let family = OpFamily.conv
    public static let opNames = ["conv1d", "conv2d", "conv3d"]
    public var opName: String { "conv\(spatialRank)d" }

    /// Padding resolved to explicit numbers. `same` = SAME_UPPER:
    /// `total = max((⌈in/s⌉ − 1)·s + d·(k−1) + 1 − in, 0)`, begin = ⌊total/2⌋.
    public var resolvedPadding: (begin: [Int], end: [Int]) {
        resolvedPadding(sameTotal: { i in
            let s = max(stride[i], 1), n = inputSize[i]
            let outSize = (n + s - 1) / s
            return max((outSize - 1) * s + dilation[i] * (kernel[i] - 1) + 1 - n, 0)
        })
    }

    public var outputSize: [Int] {
        let (pb, pe) = resolvedPadding
        return (0..<spatialRank).map { i in
            let span = inputSize[i] + pb[i] + pe[i] - dilation[i] * (kernel[i] - 1) - 1
            return span < 0 ? 0 : span / stride[i] + 1
        }
    }

    public var wShape: [Int] { [outChannels, groups > 0 ? inChannels / groups : 0] + kernel }
    /// Parameter count: weights plus bias (VGG's first layer: 64·3·3·3 + 64 = 1,792).
    public var parameterCount: Int { outChannels * wShape[1] * kernel.reduce(1, *) + (hasBias ? outChannels : 0) }

    public func validate() throws(ProblemError) {
        try precision.validate(op: opName)
        try validateGeometry(minimumInputSize: 0)
        let op = opName
        let (pb, pe) = resolvedPadding
        for i in 0..<spatialRank {
            let effective = dilation[i] * (kernel[i] - 1) + 1
            let padded = inputSize[i] + pb[i] + pe[i]
            try check(
                effective <= padded, op, "k",
                "dilated kernel \(effective) is larger than the padded input \(padded) in dimension \(i)")
        }
        try checkMemoryBudget()
    }

    /// Multiply-adds of the forward pass: `N · C_out · ∏out · (C_in/g) · ∏k`; the two
    /// backward passes over data and weights perform the same number.
    public var macs: Double { nominalMACs(stridedChannels: outChannels, stridedSize: outputSize) }
    /// The fraction of `macs` whose input position is in the image, not in the padding.
    public var realProducts: Double { realProductFraction(stridedSize: outputSize, denseSize: inputSize) }

    public func accumulationLength(for direction: Direction) -> Int {
        accumulationLength(for: direction, stridedSize: outputSize)
    }

    public var description: String { "\(geometryDescription) bias=\(hasBias ? 1 : 0)\(precision.fieldsDescription)" }

    public init(fields: ProblemFields) throws(ProblemError) {
        var f = fields
        let rank = try Self.spatialRank(of: f)
        let ones = Array(repeating: 1, count: rank)
        let g = try f.int("g", default: 1)
        self.init(
            batch: try f.int("n"), inChannels: try f.int("ic"), outChannels: try f.int("oc"), groups: g,
            inputSize: try f.dims("in", rank: rank), kernel: try f.dims("k", rank: rank),
            stride: try f.dims("s", rank: rank, default: ones), dilation: try f.dims("d", rank: rank, default: ones),
            padding: try Padding.parse(f.raw("p") ?? "valid", rank: rank, problemText: f.text),
            hasBias: try f.bool("bias", default: false))
        precision = try f.precision()
        try f.finish()
    }
}
