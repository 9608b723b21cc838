import KernelCheckCore
import KernelCheckProblems

// Reference convolution, every direction (see `ConvProblem` for shapes and the forward formula):
//
//   y[n, co, o]   = b[co] + Σ_{ci ∈ group(co)} Σ_k w[co, ci', k] · x[n, ci, o·s − pb + k·d]
//   dx[n, ci, i]  = Σ_{co ∈ group(ci)} Σ_{(o, k) : o·s − pb + k·d = i} w[co, ci', k] · dy[n, co, o]
//   dw[co, ci', k] = Σ_n Σ_o x[n, ci, o·s − pb + k·d] · dy[n, co, o]
//   db[co]        = Σ_n Σ_o dy[n, co, o]
//
// where `group = ⌊co/(C_out/g)⌋`, `ci' = ci − group·(C_in/g)` (`ciInGroup` below) is the
// input channel's index inside its group, and the terms whose input index `o·s − pb + k·d`
// falls in the padding are zero (they are simply not enumerated). Every direction walks the
// same list of taps (`KernelTaps`, with the output on the strided side and the input on the
// dense side), so the padding, stride and dilation arithmetic is written once, and 1-D and
// 2-D problems are 3-D problems with leading unit dimensions (kernel 1, stride 1, dilation 1,
// padding 0).

extension Reference {
    /// Forward convolution `y = conv(x; w) + b`, `y` of shape `p.yShape`.
    ///
    /// `b`, when given, is added to every output of its channel; whether the problem has a
    /// bias is for the caller to decide (the checked dispatcher passes it exactly when
    /// `p.hasBias`).
    public static func convForward<T>(
        _ p: ConvProblem, x: Tensor<T>, w: Tensor<T>, b: Tensor<T>? = nil
    ) -> Tensor<Double> {
        precondition(x.shape == p.xShape, "x is \(x.shape), \(p) needs \(p.xShape)")
        precondition(w.shape == p.wShape, "w is \(w.shape), \(p) needs \(p.wShape)")
        precondition(b == nil || b!.shape == p.bShape, "b is \(b!.shape), \(p) needs \(p.bShape)")
        let c = ConvChannels(p)
        let taps = KernelTaps(p)
        let xs = x.storage.map { Double($0) }, ws = w.storage.map { Double($0) }
        var y = Tensor<Double>(zeros: p.yShape)
        for n in 0..<p.batch {
            for co in 0..<p.outChannels {
                let yPlane = (n * p.outChannels + co) * taps.stridedCount
                if let b { for o in 0..<taps.stridedCount { y.storage[yPlane + o] = Double(b.storage[co]) } }
                for ciInGroup in 0..<c.inPerGroup {
                    let ci = c.group(ofOutput: co) * c.inPerGroup + ciInGroup
                    let xPlane = (n * p.inChannels + ci) * taps.denseCount
                    let wPlane = (co * c.inPerGroup + ciInGroup) * taps.kernelCount
                    for t in taps.list {
                        y.storage[yPlane + t.strided] += ws[wPlane + t.kernel] * xs[xPlane + t.dense]
                    }
                }
            }
        }
        return y
    }

    /// Gradient w.r.t. the input, `dx = ∂⟨y, dy⟩/∂x` (the adjoint of `x ↦ conv(x; w)`):
    /// every product `w · x[i]` of the forward pass sends `w · dy[o]` back to `dx[i]`.
    /// `dx` has shape `p.xShape`; input pixels no window touches get 0.
    public static func convBackwardData<T>(_ p: ConvProblem, dy: Tensor<T>, w: Tensor<T>) -> Tensor<Double> {
        precondition(dy.shape == p.yShape, "dy is \(dy.shape), \(p) needs \(p.yShape)")
        precondition(w.shape == p.wShape, "w is \(w.shape), \(p) needs \(p.wShape)")
        let c = ConvChannels(p)
        let taps = KernelTaps(p)
        let dys = dy.storage.map { Double($0) }, ws = w.storage.map { Double($0) }
        var dx = Tensor<Double>(zeros: p.xShape)
        for n in 0..<p.batch {
            for co in 0..<p.outChannels {
                let dyPlane = (n * p.outChannels + co) * taps.stridedCount
                for ciInGroup in 0..<c.inPerGroup {
                    let ci = c.group(ofOutput: co) * c.inPerGroup + ciInGroup
                    let dxPlane = (n * p.inChannels + ci) * taps.denseCount
                    let wPlane = (co * c.inPerGroup + ciInGroup) * taps.kernelCount
                    for t in taps.list {
                        dx.storage[dxPlane + t.dense] += ws[wPlane + t.kernel] * dys[dyPlane + t.strided]
                    }
                }
            }
        }
        return dx
    }

    /// Gradient w.r.t. the weights, `dw = ∂⟨y, dy⟩/∂w`: each weight collects the input pixel it
    /// multiplied times the upstream gradient of the output it fed, over batch and space.
    /// `dw` has shape `p.wShape`.
    public static func convBackwardWeights<T>(_ p: ConvProblem, x: Tensor<T>, dy: Tensor<T>) -> Tensor<Double> {
        precondition(x.shape == p.xShape, "x is \(x.shape), \(p) needs \(p.xShape)")
        precondition(dy.shape == p.yShape, "dy is \(dy.shape), \(p) needs \(p.yShape)")
        let c = ConvChannels(p)
        let taps = KernelTaps(p)
        let xs = x.storage.map { Double($0) }, dys = dy.storage.map { Double($0) }
        var dw = Tensor<Double>(zeros: p.wShape)
        for n in 0..<p.batch {
            for co in 0..<p.outChannels {
                let dyPlane = (n * p.outChannels + co) * taps.stridedCount
                for ciInGroup in 0..<c.inPerGroup {
                    let ci = c.group(ofOutput: co) * c.inPerGroup + ciInGroup
                    let xPlane = (n * p.inChannels + ci) * taps.denseCount
                    let wPlane = (co * c.inPerGroup + ciInGroup) * taps.kernelCount
                    for t in taps.list {
                        dw.storage[wPlane + t.kernel] += xs[xPlane + t.dense] * dys[dyPlane + t.strided]
                    }
                }
            }
        }
        return dw
    }

    /// Gradient w.r.t. the bias, `db[co] = Σ_n Σ_o dy[n, co, o]` (shape `p.bShape`).
    public static func convBackwardBias<T>(_ p: ConvProblem, dy: Tensor<T>) -> Tensor<Double> {
        precondition(dy.shape == p.yShape, "dy is \(dy.shape), \(p) needs \(p.yShape)")
        return sumOverBatchAndSpace(dy, channels: p.outChannels)
    }

    /// `db[c] = Σ_n Σ_spatial g[n, c, spatial…]` for an `N × C × spatial…` tensor; shared by the
    /// bias gradients of convolution and transposed convolution.
    static func sumOverBatchAndSpace<T>(_ g: Tensor<T>, channels: Int) -> Tensor<Double> {
        let batch = g.shape[0]
        let plane = Shape.elementCount(Array(g.shape[2...]))!
        var db = Tensor<Double>(zeros: [channels])
        for n in 0..<batch {
            for c in 0..<channels {
                for s in 0..<plane { db.storage[c] += Double(g.storage[(n * channels + c) * plane + s]) }
            }
        }
        return db
    }
}

/// Channel bookkeeping of a grouped convolution: output channel `co` belongs to group
/// `co / (C_out/g)` and reads the `C_in/g` input channels of that group.
struct ConvChannels {
    let inPerGroup: Int
    let outPerGroup: Int

    init(_ p: ConvProblem) {
        inPerGroup = p.inChannels / p.groups
        outPerGroup = p.outChannels / p.groups
    }

    func group(ofOutput co: Int) -> Int { co / outPerGroup }
}

/// One product of a convolution-like op, as positions inside one channel's (3-D, row-major)
/// plane: the strided position `strided`, the kernel position `kernel` and the dense position
/// `dense = strided·s − pb + k·d`.
///
/// For a convolution the strided side is the output and the dense side the input
/// (`y[o]` reads `x[o·s − pb + k·d]`); for a transposed convolution the strided side is the
/// input and the dense side the output (`x[i]` scatters into `y[i·s − pb + k·d]`).
struct KernelTap {
    let strided: Int
    let kernel: Int
    let dense: Int
}

/// Every tap of a problem whose dense position lies inside the dense tensor (taps that land
/// in the padding, or in the crop of a transposed convolution, are left out: they contribute
/// nothing). Problems of rank 1 and 2 are lifted to 3-D with leading unit dimensions.
struct KernelTaps {
    let list: [KernelTap]
    /// Elements per channel on the strided side, on the dense side and in the kernel.
    let stridedCount: Int
    let denseCount: Int
    let kernelCount: Int

    /// Convolution: output positions are strided, input positions dense.
    init(_ p: ConvProblem) {
        self.init(stridedSize: p.outputSize, denseSize: p.inputSize, kernel: p.kernel,
                  stride: p.stride, dilation: p.dilation, padBegin: p.padBegin)
    }

    /// Transposed convolution: input positions are strided, output positions dense.
    init(_ p: ConvTransposeProblem) {
        self.init(stridedSize: p.inputSize, denseSize: p.outputSize, kernel: p.kernel,
                  stride: p.stride, dilation: p.dilation, padBegin: p.padBegin)
    }

    /// All taps of `dense = strided·s − pb + k·d` with `0 ≤ dense < denseSize` in every dimension.
    init(stridedSize: [Int], denseSize: [Int], kernel: [Int], stride: [Int], dilation: [Int], padBegin: [Int]) {
        let sSize = Self.lifted(stridedSize, unit: 1), dSize = Self.lifted(denseSize, unit: 1)
        let k = Self.lifted(kernel, unit: 1), s = Self.lifted(stride, unit: 1)
        let d = Self.lifted(dilation, unit: 1), pb = Self.lifted(padBegin, unit: 0)

        // Per dimension: the (strided, kernel, dense) index triples whose dense index is in range.
        var perDimension: [[(strided: Int, kernel: Int, dense: Int)]] = []
        for dim in 0..<3 {
            var triples: [(strided: Int, kernel: Int, dense: Int)] = []
            for i in 0..<sSize[dim] {
                for kk in 0..<k[dim] {
                    let j = i * s[dim] - pb[dim] + kk * d[dim]
                    if j >= 0 && j < dSize[dim] { triples.append((i, kk, j)) }
                }
            }
            perDimension.append(triples)
        }
        // A 3-D tap is one triple per dimension; each position is flattened row-major.
        var list: [KernelTap] = []
        for a in perDimension[0] {
            for b in perDimension[1] {
                for c in perDimension[2] {
                    list.append(KernelTap(
                        strided: (a.strided * sSize[1] + b.strided) * sSize[2] + c.strided,
                        kernel: (a.kernel * k[1] + b.kernel) * k[2] + c.kernel,
                        dense: (a.dense * dSize[1] + b.dense) * dSize[2] + c.dense))
                }
            }
        }
        self.list = list
        stridedCount = sSize.reduce(1, *)
        denseCount = dSize.reduce(1, *)
        kernelCount = k.reduce(1, *)
    }

    /// `[W]` → `[unit, unit, W]`, `[H, W]` → `[unit, H, W]`: a lower-rank problem is a 3-D one
    /// whose leading dimensions have size 1 (kernel 1, stride 1, dilation 1, padding 0).
    static func lifted(_ dims: [Int], unit: Int) -> [Int] {
        precondition(dims.count <= 3, "spatial rank \(dims.count) > 3")
        return Array(repeating: unit, count: 3 - dims.count) + dims
    }
}
