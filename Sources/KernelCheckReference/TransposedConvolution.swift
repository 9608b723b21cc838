import KernelCheckCore
import KernelCheckProblems

// Reference transposed convolution, every direction (see `ConvTransposeProblem` for shapes):
//
//   y[n, co, i·s − pb + k·d] += x[n, ci, i] · w[ci, co', k]      (scatter form), then y += b[co]
//   dx[n, ci, i]  = Σ_{co ∈ group(ci)} Σ_k w[ci, co', k] · dy[n, co, i·s − pb + k·d]
//   dw[ci, co', k] = Σ_n Σ_i x[n, ci, i] · dy[n, co, i·s − pb + k·d]
//   db[co]        = Σ_n Σ_o dy[n, co, o]
//
// where `group = ⌊ci/(C_in/g)⌋`, `co' = co − group·(C_out/g)` (`coInGroup` below) is the
// output channel's index inside its group, and products that land in the crop (`pb` at the
// start, `pe` at the end) or past the end are dropped; output positions that no product
// reaches (e.g. the `output_padding` tail) hold only the bias. The forward pass is written as
// its own scatter loop, not as a call to `convBackwardData`: the equality of the two is a
// test, not an assumption. The positions come from `KernelTaps` with the input on the strided
// side and the output on the dense side.

extension Reference {
    /// Forward transposed convolution `y = convᵀ(x; w) + b`, `y` of shape `p.yShape`.
    ///
    /// `b`, when given, is added to every output of its channel (the checked dispatcher passes
    /// it exactly when `p.hasBias`).
    public static func convTransposeForward<T>(
        _ p: ConvTransposeProblem, x: Tensor<T>, w: Tensor<T>, b: Tensor<T>? = nil
    ) -> Tensor<Double> {
        precondition(x.shape == p.xShape, "x is \(x.shape), \(p) needs \(p.xShape)")
        precondition(w.shape == p.wShape, "w is \(w.shape), \(p) needs \(p.wShape)")
        precondition(b == nil || b!.shape == p.bShape, "b is \(b!.shape), \(p) needs \(p.bShape)")
        let c = ConvTransposeChannels(p)
        let taps = KernelTaps(p)
        let xs = x.storage.map { Double($0) }, ws = w.storage.map { Double($0) }
        var y = Tensor<Double>(zeros: p.yShape)
        for n in 0..<p.batch {
            // Every input pixel scatters its value, times the kernel, into the output.
            for ci in 0..<p.inChannels {
                let xPlane = (n * p.inChannels + ci) * taps.stridedCount
                for coInGroup in 0..<c.outPerGroup {
                    let co = c.group(ofInput: ci) * c.outPerGroup + coInGroup
                    let yPlane = (n * p.outChannels + co) * taps.denseCount
                    let wPlane = (ci * c.outPerGroup + coInGroup) * taps.kernelCount
                    for t in taps.list {
                        y.storage[yPlane + t.dense] += xs[xPlane + t.strided] * ws[wPlane + t.kernel]
                    }
                }
            }
            if let b {
                for co in 0..<p.outChannels {
                    let yPlane = (n * p.outChannels + co) * taps.denseCount
                    for o in 0..<taps.denseCount { y.storage[yPlane + o] += Double(b.storage[co]) }
                }
            }
        }
        return y
    }

    /// Gradient w.r.t. the input, `dx = ∂⟨y, dy⟩/∂x`: each input pixel gathers `dy` from every
    /// output position it scattered into, weighted by the same kernel entries (this is an
    /// ordinary convolution of `dy`). `dx` has shape `p.xShape`.
    public static func convTransposeBackwardData<T>(
        _ p: ConvTransposeProblem, dy: Tensor<T>, w: Tensor<T>
    ) -> Tensor<Double> {
        precondition(dy.shape == p.yShape, "dy is \(dy.shape), \(p) needs \(p.yShape)")
        precondition(w.shape == p.wShape, "w is \(w.shape), \(p) needs \(p.wShape)")
        let c = ConvTransposeChannels(p)
        let taps = KernelTaps(p)
        let dys = dy.storage.map { Double($0) }, ws = w.storage.map { Double($0) }
        var dx = Tensor<Double>(zeros: p.xShape)
        for n in 0..<p.batch {
            for ci in 0..<p.inChannels {
                let dxPlane = (n * p.inChannels + ci) * taps.stridedCount
                for coInGroup in 0..<c.outPerGroup {
                    let co = c.group(ofInput: ci) * c.outPerGroup + coInGroup
                    let dyPlane = (n * p.outChannels + co) * taps.denseCount
                    let wPlane = (ci * c.outPerGroup + coInGroup) * taps.kernelCount
                    for t in taps.list {
                        dx.storage[dxPlane + t.strided] += ws[wPlane + t.kernel] * dys[dyPlane + t.dense]
                    }
                }
            }
        }
        return dx
    }

    /// Gradient w.r.t. the weights, `dw = ∂⟨y, dy⟩/∂w`: each kernel entry collects every input
    /// pixel it scaled times the upstream gradient where the product landed. Shape `p.wShape`.
    public static func convTransposeBackwardWeights<T>(
        _ p: ConvTransposeProblem, x: Tensor<T>, dy: Tensor<T>
    ) -> Tensor<Double> {
        precondition(x.shape == p.xShape, "x is \(x.shape), \(p) needs \(p.xShape)")
        precondition(dy.shape == p.yShape, "dy is \(dy.shape), \(p) needs \(p.yShape)")
        let c = ConvTransposeChannels(p)
        let taps = KernelTaps(p)
        let xs = x.storage.map { Double($0) }, dys = dy.storage.map { Double($0) }
        var dw = Tensor<Double>(zeros: p.wShape)
        for n in 0..<p.batch {
            for ci in 0..<p.inChannels {
                let xPlane = (n * p.inChannels + ci) * taps.stridedCount
                for coInGroup in 0..<c.outPerGroup {
                    let co = c.group(ofInput: ci) * c.outPerGroup + coInGroup
                    let dyPlane = (n * p.outChannels + co) * taps.denseCount
                    let wPlane = (ci * c.outPerGroup + coInGroup) * taps.kernelCount
                    for t in taps.list {
                        dw.storage[wPlane + t.kernel] += xs[xPlane + t.strided] * dys[dyPlane + t.dense]
                    }
                }
            }
        }
        return dw
    }

    /// Gradient w.r.t. the bias, `db[co] = Σ_n Σ_o dy[n, co, o]` (shape `p.bShape`).
    public static func convTransposeBackwardBias<T>(_ p: ConvTransposeProblem, dy: Tensor<T>) -> Tensor<Double> {
        precondition(dy.shape == p.yShape, "dy is \(dy.shape), \(p) needs \(p.yShape)")
        return sumOverBatchAndSpace(dy, channels: p.outChannels)
    }
}

/// Channel bookkeeping of a grouped transposed convolution: input channel `ci` belongs to
/// group `ci / (C_in/g)` and writes the `C_out/g` output channels of that group.
struct ConvTransposeChannels {
    let inPerGroup: Int
    let outPerGroup: Int

    init(_ p: ConvTransposeProblem) {
        inPerGroup = p.inChannels / p.groups
        outPerGroup = p.outChannels / p.groups
    }

    func group(ofInput ci: Int) -> Int { ci / inPerGroup }
}
