import KernelCheckCore
import KernelCheckProblems

/// The ResNet shortcut projections, option A (subsample + zero-pad channels) and option B
/// (strided 1×1 convolution + inference BatchNorm). Formulas: `PadProjectionAProblem` and
/// `PadProjectionBProblem`.
extension Reference {
    // MARK: Option A

    /// `y[n, c + before, o…] = x[n, c, o·s]`; the `before` leading and `after` trailing
    /// channels of `y` are zero.
    public static func padProjectionAForward<T>(_ p: PadProjectionAProblem, x: Tensor<T>) -> Tensor<Double> {
        requireShape(x, p.xShape, role: "x", of: p)
        var y = Tensor<Double>(zeros: p.yShape)
        for (xi, yi) in projectionAPairs(p) { y.storage[yi] = Double(x.storage[xi]) }
        return y
    }

    /// The adjoint of option A: `dx[n, c, o·s] = dy[n, c + before, o…]`, zero at positions
    /// the stride skipped; gradients on the padded channels are dropped (they came from
    /// constants).
    public static func padProjectionABackwardData<T>(_ p: PadProjectionAProblem, dy: Tensor<T>) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        var dx = Tensor<Double>(zeros: p.xShape)
        for (xi, yi) in projectionAPairs(p) { dx.storage[xi] = Double(dy.storage[yi]) }
        return dx
    }

    // MARK: Option B

    /// `z[n, co, o…] = Σ_ci w[co, ci] · x[n, ci, o·s]`,
    /// `y = γ[co] · (z − μ[co]) / √(σ²[co] + ε) + β[co]`.
    public static func padProjectionBForward<T>(
        _ p: PadProjectionBProblem, x: Tensor<T>, w: Tensor<T>,
        gamma: Tensor<T>, beta: Tensor<T>, mean: Tensor<T>, variance: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(beta, p.channelShape, role: "beta", of: p)
        let z = projectionConvolution(p, x: x, w: w)
        let normalized = normalizedProjection(p, z: z, mean: mean, variance: variance)
        requireShape(gamma, p.channelShape, role: "gamma", of: p)
        return mapPerChannel(p, normalized) { co, value in
            Double(gamma.storage[co]) * value + Double(beta.storage[co])
        }
    }

    /// `dx[n, ci, o·s] = Σ_co w[co, ci] · dz[n, co, o…]` with `dz = a[co] · dy`, `a = γ/√(σ² + ε)`;
    /// zero at positions the stride skipped.
    public static func padProjectionBBackwardData<T>(
        _ p: PadProjectionBProblem, dy: Tensor<T>, w: Tensor<T>, gamma: Tensor<T>, variance: Tensor<T>
    ) -> Tensor<Double> {
        let dz = convolutionGradient(p, dy: dy, w: w, gamma: gamma, variance: variance)
        let at = ProjectionOffsets(p)
        var dx = Tensor<Double>(zeros: p.xShape)
        // One 1×1 convolution per image: for each (ci, o), the sum over the output channels.
        for n in 0..<p.batch {
            addSums(to: &dx, rows: p.inChannels, cols: at.outPlane, inner: p.outChannels, at: { at.x(n, $0, $1) }) {
                ci, o, co in Double(w.storage[co * p.inChannels + ci]) * dz[at.y(n, co, o)]
            }
        }
        return dx
    }

    /// `dw[co, ci] = Σ_{n, o} dz[n, co, o…] · x[n, ci, o·s]` with `dz = a[co] · dy`,
    /// `a = γ/√(σ² + ε)`.
    public static func padProjectionBBackwardWeights<T>(
        _ p: PadProjectionBProblem, x: Tensor<T>, dy: Tensor<T>, gamma: Tensor<T>, variance: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(x, p.xShape, role: "x", of: p)
        let dz = convolutionGradient(p, dy: dy, gamma: gamma, variance: variance)
        let at = ProjectionOffsets(p)
        // The sum runs over every (n, o), n outer: t = n · outPlane + o.
        return sums(p.wShape, rows: p.outChannels, cols: p.inChannels, inner: p.batch * at.outPlane) { co, ci, t in
            let n = t / at.outPlane, o = t % at.outPlane
            return dz[at.y(n, co, o)] * Double(x.storage[at.x(n, ci, o)])
        }
    }

    /// `dγ[co] = Σ_{n, o} dy[n, co, o…] · (z − μ[co]) / √(σ²[co] + ε)`, `z` the convolution.
    public static func padProjectionBBackwardGamma<T>(
        _ p: PadProjectionBProblem, x: Tensor<T>, w: Tensor<T>, dy: Tensor<T>, mean: Tensor<T>, variance: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        let z = projectionConvolution(p, x: x, w: w)
        let normalized = normalizedProjection(p, z: z, mean: mean, variance: variance)
        return channelSums(p) { index in Double(dy.storage[index]) * normalized.storage[index] }
    }

    /// `dβ[co] = Σ_{n, o} dy[n, co, o…]`.
    public static func padProjectionBBackwardBeta<T>(_ p: PadProjectionBProblem, dy: Tensor<T>) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        return channelSums(p) { index in Double(dy.storage[index]) }
    }
}

// MARK: - Option B pieces

extension Reference {
    /// The strided 1×1 convolution `z[n, co, o…] = Σ_ci w[co, ci] · x[n, ci, o·s]` (no bias).
    /// Its own loop, independent of the general convolution reference.
    private static func projectionConvolution<T>(
        _ p: PadProjectionBProblem, x: Tensor<T>, w: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(x, p.xShape, role: "x", of: p)
        requireShape(w, p.wShape, role: "w", of: p)
        let at = ProjectionOffsets(p)
        var z = Tensor<Double>(zeros: p.yShape)
        for n in 0..<p.batch {
            addSums(to: &z, rows: p.outChannels, cols: at.outPlane, inner: p.inChannels, at: { at.y(n, $0, $1) }) {
                co, o, ci in Double(w.storage[co * p.inChannels + ci]) * Double(x.storage[at.x(n, ci, o)])
            }
        }
        return z
    }

    /// `dz[n, co, o…] = a[co] · dy[n, co, o…]`, `a[co] = γ[co] / √(σ²[co] + ε)`: inference
    /// BatchNorm is `y = a·z + const`, so this is the gradient reaching the convolution `z`
    /// (flat, in `yShape` order). `w`, when given, is only checked, after `dy` as before.
    private static func convolutionGradient<T>(
        _ p: PadProjectionBProblem, dy: Tensor<T>, w: Tensor<T>? = nil, gamma: Tensor<T>, variance: Tensor<T>
    ) -> [Double] {
        requireShape(dy, p.yShape, role: "dy", of: p)
        if let w { requireShape(w, p.wShape, role: "w", of: p) }
        requireShape(gamma, p.channelShape, role: "gamma", of: p)
        requireShape(variance, p.channelShape, role: "var", of: p)
        let a = (0..<p.outChannels).map {
            Double(gamma.storage[$0]) / (Double(variance.storage[$0]) + p.epsilon).squareRoot()
        }
        let plane = p.outputSize.reduce(1, *)
        return dy.storage.indices.map { i in a[(i / plane) % p.outChannels] * Double(dy.storage[i]) }
    }

    /// `out[co] = Σ_{n, o} term(offset of [n, co, o…] in yShape)`, summed `n` outer, `o` inner.
    private static func channelSums(_ p: PadProjectionBProblem, _ term: (Int) -> Double) -> Tensor<Double> {
        let plane = p.outputSize.reduce(1, *)
        return sums(p.channelShape, rows: 1, cols: p.outChannels, inner: p.batch * plane) { _, co, t in
            term((t / plane * p.outChannels + co) * plane + t % plane)
        }
    }

    /// `(z − μ[co]) / √(σ²[co] + ε)`, the BatchNorm input before scale and shift.
    private static func normalizedProjection<T>(
        _ p: PadProjectionBProblem, z: Tensor<Double>, mean: Tensor<T>, variance: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(mean, p.channelShape, role: "mean", of: p)
        requireShape(variance, p.channelShape, role: "var", of: p)
        return mapPerChannel(p, z) { co, value in
            (value - Double(mean.storage[co])) / (Double(variance.storage[co]) + p.epsilon).squareRoot()
        }
    }

    /// `t` (of shape `yShape`) with every element `[n, co, o…]` replaced by `f(co, element)`.
    private static func mapPerChannel(
        _ p: PadProjectionBProblem, _ t: Tensor<Double>, _ f: (Int, Double) -> Double
    ) -> Tensor<Double> {
        let plane = p.outputSize.reduce(1, *)
        var out = t
        for i in t.storage.indices { out.storage[i] = f((i / plane) % p.outChannels, t.storage[i]) }
        return out
    }

    /// The `(x, y)` offsets option A connects, `x[n, c, o·s]` and `y[n, c + before, o…]`, for
    /// every image, input channel and output position.
    private static func projectionAPairs(_ p: PadProjectionAProblem) -> [(x: Int, y: Int)] {
        let at = ProjectionOffsets(
            inputSize: p.inputSize, stride: p.stride, outputSize: p.outputSize,
            xChannels: p.channels, yChannels: p.outChannels)
        var pairs: [(x: Int, y: Int)] = []
        for n in 0..<p.batch {
            for c in 0..<p.channels {
                for o in 0..<at.outPlane { pairs.append((at.x(n, c, o), at.y(n, c + p.before, o))) }
            }
        }
        return pairs
    }
}

/// Flat offsets of the points both projections connect: `x[n, c, o·s]` (the subsampled input)
/// and `y[n, c, o…]`.
private struct ProjectionOffsets {
    /// Offsets, within one `inputSize` plane, of the points `x[o·s]` for every output
    /// position `o` in row-major order (what `x[..., ::s, ::s]` picks).
    let picked: [Int]
    let inPlane: Int
    let xChannels, yChannels: Int
    var outPlane: Int { picked.count }

    init(inputSize: [Int], stride: [Int], outputSize: [Int], xChannels: Int, yChannels: Int) {
        let inStrides = Shape.strides(inputSize)
        var offsets = [0]
        // Build row-major order one dimension at a time: outer dims vary slowest.
        for d in 0..<inputSize.count {
            offsets = offsets.flatMap { base in (0..<outputSize[d]).map { o in base + o * stride[d] * inStrides[d] } }
        }
        picked = offsets
        inPlane = inputSize.reduce(1, *)
        self.xChannels = xChannels
        self.yChannels = yChannels
    }

    init(_ p: PadProjectionBProblem) {
        self.init(
            inputSize: p.inputSize, stride: p.stride, outputSize: p.outputSize,
            xChannels: p.inChannels, yChannels: p.outChannels)
    }

    func x(_ n: Int, _ c: Int, _ o: Int) -> Int { (n * xChannels + c) * inPlane + picked[o] }
    func y(_ n: Int, _ c: Int, _ o: Int) -> Int { (n * yChannels + c) * outPlane + o }
}
