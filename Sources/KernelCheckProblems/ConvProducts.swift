// Every product of a convolution and of a transposed convolution, as flat row-major offsets
// into y, x and w: the geometry (padding, stride, dilation, groups) written once, for the
// Float64 reference and for the naive expectations of the tests.
//
// Both ops are made of the same products. A convolution gathers: output position `o` reads
// input position `o·s − pb + k·d`. A transposed convolution is its adjoint w.r.t. x and
// scatters: input position `i` writes output position `i·s − pb + k·d`. So in both there is
// a *strided* side (the positions multiplied by `s`: y of a convolution, x of a transposed
// one) and a *dense* side (x of a convolution, y of a transposed one), and the weight's first
// dimension is the strided side's channel, its second the dense side's channel within the
// group: `w[stridedChannel, denseChannel − g·(C_dense/G), k…]`.

extension ConvProblem {
    /// Calls `body(y, x, w)` once for every product of the convolution
    ///
    ///     y[n, co, o…] += x[n, ci, o·s − pb + k·d] · w[co, ci − g·C_in/G, k…]
    ///
    /// over images `n`, output channels `co`, input channels `ci` of `co`'s group
    /// `g = ⌊co / (C_out/G)⌋`, output positions `o` and kernel positions `k`, leaving out the
    /// terms whose input position falls in the padding (they are zero). `y`, `x` and `w` are
    /// the row-major offsets of the three elements in `yShape`, `xShape` and `wShape`.
    ///
    /// Order: `n`, `co`, `ci`, then `o` and `k` (row-major, `k` fastest), so each output
    /// element receives its products by input channel, then by kernel position.
    public func forEachProduct(_ body: (_ y: Int, _ x: Int, _ w: Int) -> Void) {
        products(strided: (outChannels, outputSize), dense: (inChannels, inputSize)).forEach(body)
    }
}

extension ConvTransposeProblem {
    /// Calls `body(y, x, w)` once for every product of the transposed convolution
    ///
    ///     y[n, co, i·s − pb + k·d] += x[n, ci, i…] · w[ci, co − g·C_out/G, k…]
    ///
    /// over images `n`, input channels `ci`, output channels `co` of `ci`'s group
    /// `g = ⌊ci / (C_in/G)⌋`, input positions `i` and kernel positions `k`, leaving out the
    /// products that land in the crop or past the end of y. These are the products of the
    /// convolution it is the adjoint of, with x and y exchanged. `y`, `x` and `w` are the
    /// row-major offsets of the three elements in `yShape`, `xShape` and `wShape`.
    ///
    /// Order: `n`, `ci`, `co`, then `i` and `k` (row-major, `k` fastest), so each output
    /// element receives its products by input channel, then by input position.
    public func forEachProduct(_ body: (_ y: Int, _ x: Int, _ w: Int) -> Void) {
        products(strided: (inChannels, inputSize), dense: (outChannels, outputSize)).forEach { strided, dense, w in
            body(dense, strided, w)
        }
    }
}

extension ConvolutionGeometry {
    /// The products of this op's geometry between a strided side and a dense side, each given
    /// as its channel count and spatial size.
    func products(strided: (channels: Int, size: [Int]), dense: (channels: Int, size: [Int])) -> ConvProducts {
        ConvProducts(
            batch: batch, groups: groups, stridedChannels: strided.channels, denseChannels: dense.channels,
            taps: KernelTaps(
                stridedSize: strided.size, denseSize: dense.size, kernel: kernel,
                stride: stride, dilation: dilation, padBegin: padBegin))
    }
}

/// The products `strided[n, a, o] ~ dense[n, b, o·s − pb + k·d] ~ w[a, b − g·(C_dense/G), k]`
/// of a grouped op, `b` running over the dense channels of `a`'s group `g`.
struct ConvProducts {
    let batch: Int
    let groups: Int
    let stridedChannels: Int
    let denseChannels: Int
    let taps: KernelTaps

    /// `body(stridedOffset, denseOffset, weightOffset)` in the order n, a, b, tap.
    func forEach(_ body: (_ strided: Int, _ dense: Int, _ w: Int) -> Void) {
        guard groups > 0 else { return }
        let stridedPerGroup = stridedChannels / groups, densePerGroup = denseChannels / groups
        for n in 0..<batch {
            for a in 0..<stridedChannels {
                let stridedPlane = (n * stridedChannels + a) * taps.stridedCount
                for bInGroup in 0..<densePerGroup {
                    let b = (a / stridedPerGroup) * densePerGroup + bInGroup
                    let densePlane = (n * denseChannels + b) * taps.denseCount
                    let weightPlane = (a * densePerGroup + bInGroup) * taps.kernelCount
                    for t in taps.list {
                        body(stridedPlane + t.strided, densePlane + t.dense, weightPlane + t.kernel)
                    }
                }
            }
        }
    }
}

/// One product's positions inside one channel's (3-D, row-major) planes: the strided
/// position, the kernel position and the dense position `strided·s − pb + k·d`.
struct KernelTap {
    let strided: Int
    let kernel: Int
    let dense: Int
}

/// Every tap whose dense position lies inside the dense plane (taps that land in the padding,
/// or in the crop of a transposed convolution, are left out: they contribute nothing).
/// Problems of rank 1 and 2 are lifted to 3-D with leading unit dimensions.
struct KernelTaps {
    let list: [KernelTap]
    /// Elements per channel on the strided side, on the dense side and in the kernel.
    let stridedCount: Int
    let denseCount: Int
    let kernelCount: Int

    /// All taps of `dense = strided·s − pb + k·d` with `0 ≤ dense < denseSize` in every dimension.
    init(stridedSize: [Int], denseSize: [Int], kernel: [Int], stride: [Int], dilation: [Int], padBegin: [Int]) {
        let sSize = Self.lifted(stridedSize, unit: 1), dSize = Self.lifted(denseSize, unit: 1)
        let k = Self.lifted(kernel, unit: 1), s = Self.lifted(stride, unit: 1)
        let d = Self.lifted(dilation, unit: 1), pb = Self.lifted(padBegin, unit: 0)

        // Per dimension: the (strided, kernel, dense) index triples whose dense index is in range.
        let perDimension = (0..<3).map {
            Self.triples(
                stridedSize: sSize[$0], denseSize: dSize[$0], kernel: k[$0], stride: s[$0], dilation: d[$0],
                padBegin: pb[$0])
        }
        // A 3-D tap is one triple per dimension; each position is flattened row-major.
        var list: [KernelTap] = []
        for a in perDimension[0] {
            for b in perDimension[1] {
                for c in perDimension[2] {
                    list.append(
                        KernelTap(
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

    /// The `(strided, kernel, dense)` index triples of one dimension with
    /// `dense = strided·s − pb + kernel·d` in `0 ..< denseSize`, strided-major.
    static func triples(
        stridedSize: Int, denseSize: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int
    ) -> [(strided: Int, kernel: Int, dense: Int)] {
        var triples: [(strided: Int, kernel: Int, dense: Int)] = []
        for i in 0..<stridedSize {
            for kk in 0..<kernel {
                let j = i * stride - padBegin + kk * dilation
                if j >= 0 && j < denseSize { triples.append((i, kk, j)) }
            }
        }
        return triples
    }

    /// `[W]` → `[unit, unit, W]`, `[H, W]` → `[unit, H, W]`: a lower-rank problem is a 3-D one
    /// whose leading dimensions have size 1 (kernel 1, stride 1, dilation 1, padding 0).
    static func lifted(_ dims: [Int], unit: Int) -> [Int] {
        precondition(dims.count <= 3, "spatial rank \(dims.count) > 3")
        return Array(repeating: unit, count: 3 - dims.count) + dims
    }
}
