import KernelCheckCore

/// ResNet's option-A shortcut: subsample space by `s`, then zero-pad channels.
///
/// `y[n, c + before, o…] = x[n, c, o·s]` and `y = 0` on the `before` leading and `after`
/// trailing channels; `C_out = C + before + after`, `out = ⌈in / s⌉` (`x[:, :, ::s, ::s]`).
/// Backward: `dx[n, c, o·s] = dy[n, c + before, o…]`, zero elsewhere.
///
/// Canonical text: `padproj_a n=2 c=3 in=8x8 s=2x2 before=7 after=6`. When parsing,
/// `oc=16` may stand for `before`/`after` and splits the gap as the CIFAR code does
/// (`before = ⌊gap/2⌋`, `after` = the rest).
public struct PadProjectionAProblem: SubsamplingProblem {
    public var batch: Int
    public var channels: Int
    public var inputSize: [Int]
    public var stride: [Int]
    public var before: Int
    public var after: Int

    public init(batch: Int, channels: Int, inputSize: [Int], stride: [Int]? = nil, before: Int, after: Int) {
        self.batch = batch
        self.channels = channels
        self.inputSize = inputSize
        self.stride = stride ?? Array(repeating: 1, count: inputSize.count)
        self.before = before
        self.after = after
    }

    /// The CIFAR ResNet form: `C_out − C` split in two, the smaller half first.
    public init(
        batch: Int, channels: Int, inputSize: [Int], stride: [Int]? = nil, outChannels: Int
    ) throws(ProblemError) {
        try check(
            outChannels >= channels, "padproj_a", "oc",
            "option A can only add channels: oc=\(outChannels) < c=\(channels)")
        let gap = outChannels - channels
        self.init(
            batch: batch, channels: channels, inputSize: inputSize, stride: stride, before: gap / 2,
            after: gap - gap / 2)
    }

    public static let family = OpFamily.padProjectionA
    public static let opNames = ["padproj_a"]
    public var opName: String { "padproj_a" }
    public var outChannels: Int { channels + before + after }
    public var xShape: [Int] { [batch, channels] + inputSize }
    public var yShape: [Int] { [batch, outChannels] + outputSize }

    public func validate() throws(ProblemError) {
        let op = opName
        try validateSubsampling(minimumInputSize: 0) { () throws(ProblemError) in
            try check(channels >= 0, op, "c", "must be ≥ 0, got \(channels)")
            try check(before >= 0, op, "before", "option A can only add channels: before=\(before) < 0")
            try check(after >= 0, op, "after", "option A can only add channels: after=\(after) < 0")
        }
        try checkMemoryBudget()
    }

    public var directions: [Direction] { [.fwd, .bwdData] }
    public func inputs(for direction: Direction) -> [TensorSpec] {
        direction == .fwd ? [TensorSpec("x", xShape)] : [TensorSpec("dy", yShape)]
    }
    public func output(for direction: Direction) -> TensorSpec {
        direction == .fwd ? TensorSpec("y", yShape) : TensorSpec("dx", xShape)
    }
    public func flops(for direction: Direction) -> Double { 0 }
    public func accumulationLength(for direction: Direction) -> Int { 1 }

    public var description: String {
        "padproj_a n=\(batch) c=\(channels) in=\(Shape.format(inputSize)) s=\(Shape.format(stride)) before=\(before) after=\(after)"
    }

    public init(fields: ProblemFields) throws(ProblemError) {
        var f = fields
        let size = try f.dims("in")
        let n = try f.int("n"), c = try f.int("c")
        let s = try Self.stride(of: &f, inputSize: size)
        if f.has("oc") {
            guard !f.has("before") && !f.has("after") else {
                throw .malformed(text: f.text, reason: "give either oc or before/after, not both")
            }
            try self.init(batch: n, channels: c, inputSize: size, stride: s, outChannels: try f.int("oc"))
        } else {
            self.init(
                batch: n, channels: c, inputSize: size, stride: s, before: try f.int("before"),
                after: try f.int("after"))
        }
        _ = try f.precision(supported: false)
        try f.finish()
    }
}

/// ResNet's option-B shortcut: a 1×1 convolution with stride `s` (no bias), then BatchNorm in
/// inference form.
///
/// `z[n, co, o…] = Σ_ci w[co, ci] · x[n, ci, o·s]`, then
/// `y = γ[co] · (z − μ[co]) / √(σ²[co] + ε) + β[co]`.
/// Gradients: with `a[co] = γ[co]/√(σ²[co]+ε)` and `dz = a·dy`:
/// `dx[n, ci, o·s] = Σ_co w[co, ci]·dz`, `dw[co, ci] = Σ_{n,o} dz·x[n, ci, o·s]`,
/// `dγ[co] = Σ_{n,o} dy·(z − μ)/√(σ²+ε)`, `dβ[co] = Σ_{n,o} dy`.
///
/// Canonical text: `padproj_b n=1 ic=64 oc=256 in=8x8 s=2x2 eps=1e-05`.
public struct PadProjectionBProblem: SubsamplingProblem {
    public var batch: Int
    public var inChannels: Int
    public var outChannels: Int
    public var inputSize: [Int]
    public var stride: [Int]
    public var epsilon: Double

    public init(
        batch: Int, inChannels: Int, outChannels: Int, inputSize: [Int], stride: [Int]? = nil, epsilon: Double = 1e-5
    ) {
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.inputSize = inputSize
        self.stride = stride ?? Array(repeating: 1, count: inputSize.count)
        self.epsilon = epsilon
    }

    public static let family = OpFamily.padProjectionB
    public static let opNames = ["padproj_b"]
    public var opName: String { "padproj_b" }
    public var xShape: [Int] { [batch, inChannels] + inputSize }
    public var wShape: [Int] { [outChannels, inChannels] + Array(repeating: 1, count: inputSize.count) }
    public var channelShape: [Int] { [outChannels] }
    public var yShape: [Int] { [batch, outChannels] + outputSize }

    /// The 1×1 strided convolution inside the projection.
    public var convolution: ConvProblem {
        ConvProblem(
            batch: batch, inChannels: inChannels, outChannels: outChannels, inputSize: inputSize,
            kernel: Array(repeating: 1, count: inputSize.count), stride: stride, padding: .valid, hasBias: false)
    }

    public func validate() throws(ProblemError) {
        let op = opName
        try validateSubsampling(minimumInputSize: 1) { () throws(ProblemError) in
            try check(inChannels >= 0, op, "ic", "must be ≥ 0, got \(inChannels)")
            try check(outChannels >= 0, op, "oc", "must be ≥ 0, got \(outChannels)")
        }
        try check(
            epsilon > 0 && epsilon.isFinite, op, "eps", "BatchNorm ε must be a positive finite number, got \(epsilon)")
        try checkMemoryBudget()
    }

    public var directions: [Direction] { [.fwd, .bwdData, .bwdWeights, .bwdGamma, .bwdBeta] }

    public func inputs(for direction: Direction) -> [TensorSpec] {
        let c = channelShape
        switch direction {
        case .fwd:
            return [
                TensorSpec("x", xShape), TensorSpec("w", wShape), TensorSpec("gamma", c), TensorSpec("beta", c),
                TensorSpec("mean", c), TensorSpec("var", c),
            ]
        case .bwdData:
            return [TensorSpec("dy", yShape), TensorSpec("w", wShape), TensorSpec("gamma", c), TensorSpec("var", c)]
        case .bwdWeights:
            return [TensorSpec("x", xShape), TensorSpec("dy", yShape), TensorSpec("gamma", c), TensorSpec("var", c)]
        case .bwdGamma:
            return [
                TensorSpec("x", xShape), TensorSpec("w", wShape), TensorSpec("dy", yShape), TensorSpec("mean", c),
                TensorSpec("var", c),
            ]
        default: return [TensorSpec("dy", yShape)]
        }
    }

    public func output(for direction: Direction) -> TensorSpec {
        layerOutput(direction, x: xShape, w: wShape, y: yShape)
            ?? TensorSpec(direction == .bwdGamma ? "dgamma" : "dbeta", channelShape)
    }

    public func flops(for direction: Direction) -> Double {
        let conv = convolution.flops(for: .fwd)
        switch direction {
        case .fwd, .bwdData, .bwdWeights, .bwdGamma:
            return conv + 4 * Double(batch * outChannels * outputSize.reduce(1, *))
        default: return Double(batch * outChannels * outputSize.reduce(1, *))
        }
    }

    public func accumulationLength(for direction: Direction) -> Int {
        let spatial = batch * outputSize.reduce(1, *)
        switch direction {
        case .fwd: return inChannels + 3
        case .bwdData: return outChannels + 2
        case .bwdWeights: return spatial + 2
        case .bwdGamma: return spatial * (inChannels + 3)
        default: return spatial
        }
    }

    public var description: String {
        "padproj_b n=\(batch) ic=\(inChannels) oc=\(outChannels) in=\(Shape.format(inputSize)) s=\(Shape.format(stride)) eps=\(formatNumber(epsilon))"
    }

    public init(fields: ProblemFields) throws(ProblemError) {
        var f = fields
        let size = try f.dims("in")
        self.init(
            batch: try f.int("n"), inChannels: try f.int("ic"), outChannels: try f.int("oc"), inputSize: size,
            stride: try Self.stride(of: &f, inputSize: size),
            epsilon: try f.double("eps", default: 1e-5))
        _ = try f.precision(supported: false)
        try f.finish()
    }
}

/// The two ResNet shortcuts: a batch of `inputSize` images subsampled by `stride`
/// (`out = ⌈in / s⌉`, `x[:, :, ::s, …]`).
public protocol SubsamplingProblem: ProblemDescriptor {
    var batch: Int { get }
    var inputSize: [Int] { get }
    var stride: [Int] { get }
}

extension SubsamplingProblem {
    public var outputSize: [Int] { zip(inputSize, stride).map { $1 > 0 ? ($0 + $1 - 1) / $1 : 0 } }

    /// The checks both shortcuts need, in this order: rank 1–3 with a stride per dimension,
    /// batch ≥ 0, then `channels` (the op's own channel checks), spatial sizes ≥
    /// `minimumInputSize`, strides ≥ 1.
    func validateSubsampling(minimumInputSize: Int, channels: () throws(ProblemError) -> Void) throws(ProblemError) {
        let op = opName
        try check((1...3).contains(inputSize.count), op, "in", "spatial rank must be 1, 2 or 3, got \(inputSize.count)")
        try check(stride.count == inputSize.count, op, "s", "needs \(inputSize.count) entries, got \(stride.count)")
        try check(batch >= 0, op, "n", "batch must be ≥ 0, got \(batch)")
        try channels()
        try check(
            inputSize.allSatisfy { $0 >= minimumInputSize }, op, "in", "spatial sizes must be ≥ \(minimumInputSize)")
        try check(stride.allSatisfy { $0 >= 1 }, op, "s", "strides must be ≥ 1, got \(Shape.format(stride))")
    }

    /// The `s` field: one stride per dimension of `inputSize`, 1 by default.
    static func stride(of fields: inout ProblemFields, inputSize: [Int]) throws(ProblemError) -> [Int] {
        try fields.dims("s", rank: inputSize.count, default: Array(repeating: 1, count: inputSize.count))
    }
}
