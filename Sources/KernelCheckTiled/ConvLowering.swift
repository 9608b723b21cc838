import Dispatch
import KernelCheckProblems

/// Knobs of the GEMM lowering. They change speed and workspace size, never which products
/// are summed, and none depends on the thread count (so results are the same for any
/// `threads`). The defaults suit the benchmark shapes; tests shrink them so tiny problems
/// exercise column blocks, partial output lines, weight slabs and split reductions.
struct ConvLoweringTuning: Sendable {
    /// Floats in one thread's column buffer (slab rows × block columns): 128 Ki floats =
    /// 512 KiB, so im2col writes and GEMM reads stay in a Zen 5 core's 1 MiB L2.
    var columnBudget = 1 << 17
    /// Fewest columns per block, so GEMM's `n` (or `k` for backward-weights) stays wide
    /// even when K is huge.
    var minimumColumnBlock = 256
    /// Fewest rows per slab of col (GEMM's `k` in forward, `m` in backward-data, `n` in
    /// backward-weights).
    var minimumSlabRows = 64
    /// Backward-weights wants this many independent (group, slab) items; with fewer it
    /// splits the images into chunks whose partial dW are summed in chunk order.
    var reductionItemsTarget = 8
    /// Items run in parallel (single-threaded GEMM each) once there are this many per
    /// thread; with fewer they run one after another, each using every thread.
    var itemsPerThread = 2

    static let standard = ConvLoweringTuning()
}

/// A convolution lowered to matrix products, per image `n` and group `g`:
///
/// - forward: `Y[n,g] (Co × P) = W[g] (Co × K) · col(X[n,g]) (K × P)`,
/// - backward-data: `col(dX[n,g]) = W[g]ᵀ · dY[n,g]`, then col2im scatter-adds the columns,
/// - backward-weights: `dW[g] = Σ_n dY[n,g] · col(X[n,g])ᵀ`, images in increasing order,
///
/// where `K = Ci·∏k` rows indexed by (input channel, tap…) in weight order, `P = ∏out`
/// columns indexed by output position, and
/// `col[(ci, k…), o…] = X[ci, o·s − pb + k·d]` (zero when that index falls in the padding).
///
/// The transposed convolution is the adjoint of a convolution, so it reuses this type on the
/// swapped descriptor (`init(adjointOf:)`): its forward is `backwardData`, its backward-data
/// is `forward`, its backward-weights is `backwardWeights` with `x` and `dy` exchanged.
///
/// Spatial geometry is padded to 3-D with leading unit dimensions, so 1-D, 2-D and 3-D share
/// one code path. `col` is built in column blocks of bounded size (never the whole batch),
/// one buffer per worker thread, allocated once per call. A 1×1 stride-1 unpadded
/// convolution skips im2col: `X[n,g]` (Ci × P) already is the column matrix.
struct ConvLowering {
    var batch: Int
    let groups: Int
    /// Channels per group on the convolution's input side (`C_in/g`) and output side.
    let inChannels: Int
    let outChannels: Int
    /// Spatial sizes and geometry, padded to three dimensions.
    let inSize: [Int]
    let outSize: [Int]
    let kernel: [Int]
    let stride: [Int]
    let dilation: [Int]
    let padBegin: [Int]
    let tuning: ConvLoweringTuning

    let taps: Int
    let inSpatial: Int
    let outSpatial: Int
    /// Per dimension and per kernel tap, the output indices `lo..<hi` whose input index
    /// `o·s − pb + k·d` lies inside the input: im2col copies that range and zero-fills the rest,
    /// so its loops never test an index per element.
    let validOutputs: [[(lo: Int, hi: Int)]]
    let isPointwise: Bool

    /// K: rows of the column matrix.
    var columnRows: Int { inChannels * taps }

    init(batch: Int, groups: Int, inChannelsPerGroup: Int, outChannelsPerGroup: Int,
         inputSize: [Int], outputSize: [Int], kernel: [Int], stride: [Int], dilation: [Int], padBegin: [Int],
         tuning: ConvLoweringTuning) {
        let lead = 3 - inputSize.count
        func pad(_ a: [Int], _ fill: Int) -> [Int] { Array(repeating: fill, count: lead) + a }
        self.batch = batch
        self.groups = groups
        self.inChannels = inChannelsPerGroup
        self.outChannels = outChannelsPerGroup
        self.inSize = pad(inputSize, 1)
        self.outSize = pad(outputSize, 1)
        self.kernel = pad(kernel, 1)
        self.stride = pad(stride, 1)
        self.dilation = pad(dilation, 1)
        self.padBegin = pad(padBegin, 0)
        self.tuning = tuning
        taps = self.kernel.reduce(1, *)
        inSpatial = self.inSize.reduce(1, *)
        outSpatial = self.outSize.reduce(1, *)
        var valid: [[(lo: Int, hi: Int)]] = []
        for dim in 0..<3 {
            let s = self.stride[dim], n = self.inSize[dim], out = self.outSize[dim]
            let d = self.dilation[dim], pb = self.padBegin[dim]
            valid.append((0..<self.kernel[dim]).map { k in
                // o·s + off ∈ [0, n)  ⇔  o ∈ [⌈−off/s⌉, ⌈(n − off)/s⌉)
                let off = k * d - pb
                let lo = min(off >= 0 ? 0 : (-off + s - 1) / s, out)
                let hi = n - off <= 0 ? 0 : min((n - off + s - 1) / s, out)
                return (lo, max(lo, hi))
            })
        }
        validOutputs = valid
        isPointwise = taps == 1 && self.stride.allSatisfy { $0 == 1 } && self.padBegin.allSatisfy { $0 == 0 }
            && self.inSize == self.outSize
    }

    init(_ p: ConvProblem, tuning: ConvLoweringTuning) {
        self.init(batch: p.batch, groups: p.groups, inChannelsPerGroup: p.inChannels / p.groups,
                  outChannelsPerGroup: p.outChannels / p.groups, inputSize: p.inputSize, outputSize: p.outputSize,
                  kernel: p.kernel, stride: p.stride, dilation: p.dilation, padBegin: p.padBegin, tuning: tuning)
    }

    /// The convolution whose backward-data is `p`'s forward: input = the transposed
    /// convolution's output (its crop is this convolution's padding), output = its input.
    /// Sizes are taken from `p`, not recomputed, so `output_padding ≥ s` (possible when
    /// `d > s`) is handled: those positions simply receive no products.
    init(adjointOf p: ConvTransposeProblem, tuning: ConvLoweringTuning) {
        self.init(batch: p.batch, groups: p.groups, inChannelsPerGroup: p.outChannels / p.groups,
                  outChannelsPerGroup: p.inChannels / p.groups, inputSize: p.outputSize, outputSize: p.inputSize,
                  kernel: p.kernel, stride: p.stride, dilation: p.dilation, padBegin: p.padBegin, tuning: tuning)
    }

    /// How col (K × P) is cut into tiles that fit the column budget: blocks of `block`
    /// columns (the whole P when all K rows fit, never fewer than `minimumColumnBlock`),
    /// each cut into slabs of `slabRows` rows. Depends only on the shape and the tuning.
    var tiles: (slabRows: Int, block: Int) {
        let p = outSpatial, k = max(columnRows, 1)
        if isPointwise { return (k, max(p, 1)) }
        let block = max(1, min(p, max(tuning.columnBudget / k, tuning.minimumColumnBlock)))
        let slab = max(1, min(k, max(tuning.columnBudget / block, tuning.minimumSlabRows)))
        return (slab, block)
    }

    // MARK: - The three lowered products

    /// `output[n, g·Co + co, p] = (bias[g·Co + co] or 0) + Σ_K W[g][co, K] · col(input[n, g])[K, p]`.
    func forward(input x: UnsafePointer<Float>, weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 output y: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let channelsOut = groups * co
        guard batch > 0, channelsOut > 0, p > 0 else { return }
        if let bias {
            ConvParallel.forEach(batch * channelsOut, threads: threads) { row, _ in
                (y + row * p).update(repeating: bias[row % channelsOut], count: p)
            }
        }
        guard k > 0 else {
            if bias == nil { y.update(repeating: 0, count: batch * channelsOut * p) }
            return
        }
        let (slabRows, block) = tiles
        let blocks = (p + block - 1) / block, slabs = (k + slabRows - 1) / slabRows
        let groups = groups, pointwise = isPointwise
        runItems(batch * groups * blocks, threads: threads, workspace: pointwise ? 0 : slabRows * block) { item, ws, inner in
            let imageGroup = item / blocks, g = imageGroup % groups  // imageGroup = n·G + g
            let p0 = (item % blocks) * block, p1 = min(p, p0 + block)
            let src = x + imageGroup * ci * inS, out = y + imageGroup * co * p + p0
            if pointwise {
                Tiled.sgemm(transA: false, transB: false, m: co, n: p1 - p0, k: k, a: w + g * co * k, lda: k,
                            b: src + p0, ldb: p, c: out, ldc: p, accumulate: bias != nil, threads: inner)
                return
            }
            // Slabs of K are summed into the output in slab order.
            for slab in 0..<slabs {
                let r0 = slab * slabRows, r1 = min(k, r0 + slabRows)
                im2col(src, rows: r0..<r1, columns: p0..<p1, into: ws, threads: inner)
                Tiled.sgemm(transA: false, transB: false, m: co, n: p1 - p0, k: r1 - r0, a: w + g * co * k + r0, lda: k,
                            b: ws, ldb: p1 - p0, c: out, ldc: p, accumulate: bias != nil || slab > 0, threads: inner)
            }
        }
    }

    /// `input = col2im(W[g]ᵀ · output[n, g])`: the gradient of `forward` w.r.t. its input.
    /// Column blocks of one (image, group) are scattered in order by one worker, so every
    /// input element receives its products in a fixed order.
    func backwardData(output dy: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                      input dx: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let inCount = batch * groups * ci * inS
        guard inCount > 0 else { return }
        guard co > 0, p > 0 else { dx.update(repeating: 0, count: inCount); return }
        let (slabRows, block) = tiles
        let blocks = (p + block - 1) / block, slabs = (k + slabRows - 1) / slabRows
        let groups = groups, pointwise = isPointwise
        runItems(batch * groups, threads: threads, workspace: pointwise ? 0 : slabRows * block) { imageGroup, ws, inner in
            let g = imageGroup % groups
            let dst = dx + imageGroup * ci * inS, a = w + g * co * k, dOut = dy + imageGroup * co * p
            if pointwise {
                Tiled.sgemm(transA: true, transB: false, m: k, n: p, k: co, a: a, lda: k, b: dOut, ldb: p,
                            c: dst, ldc: p, accumulate: false, threads: inner)
                return
            }
            dst.update(repeating: 0, count: ci * inS)
            for blk in 0..<blocks {
                let p0 = blk * block, p1 = min(p, p0 + block)
                for slab in 0..<slabs {
                    let r0 = slab * slabRows, r1 = min(k, r0 + slabRows)
                    Tiled.sgemm(transA: true, transB: false, m: r1 - r0, n: p1 - p0, k: co, a: a + r0, lda: k,
                                b: dOut + p0, ldb: p, c: ws, ldc: p1 - p0, accumulate: false, threads: inner)
                    col2im(ws, rows: r0..<r1, columns: p0..<p1, into: dst, threads: inner)
                }
            }
        }
    }

    /// `dW[g] = Σ_n output[n, g] · col(input[n, g])ᵀ`: the gradient of `forward` w.r.t. W.
    ///
    /// Work items are (image chunk, group, slab of K rows); slabs write disjoint columns of
    /// dW. The number of image chunks depends only on the shape: with one chunk each item
    /// sums all images in order; with several, chunk partials are added in chunk order.
    func backwardWeights(input x: UnsafePointer<Float>, output dy: UnsafePointer<Float>,
                         weights dw: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let total = groups * co * k
        guard total > 0 else { return }
        guard batch > 0, p > 0 else { dw.update(repeating: 0, count: total); return }
        let (slabRows, block) = tiles
        let slabs = (k + slabRows - 1) / slabRows, blocks = (p + block - 1) / block
        let perChunk = groups * slabs
        let wantedChunks = perChunk >= tuning.reductionItemsTarget
            ? 1 : min(batch, (tuning.reductionItemsTarget + perChunk - 1) / perChunk)
        let imagesPerChunk = (batch + wantedChunks - 1) / wantedChunks
        let chunks = (batch + imagesPerChunk - 1) / imagesPerChunk
        let partials: UnsafeMutablePointer<Float>? = chunks > 1 ? .allocate(capacity: chunks * total) : nil
        defer { partials?.deallocate() }
        let groups = groups, batch = batch, pointwise = isPointwise
        runItems(chunks * perChunk, threads: threads, workspace: pointwise ? 0 : slabRows * block) { item, ws, inner in
            let slab = item % slabs, g = (item / slabs) % groups, chunk = item / perChunk
            let r0 = slab * slabRows, r1 = min(k, r0 + slabRows)
            let target = (partials.map { $0 + chunk * total } ?? dw) + g * co * k + r0
            var first = true
            for n in (chunk * imagesPerChunk)..<min(batch, (chunk + 1) * imagesPerChunk) {
                let imageGroup = n * groups + g
                let src = x + imageGroup * ci * inS, dOut = dy + imageGroup * co * p
                for blk in 0..<blocks {
                    let p0 = blk * block, p1 = min(p, p0 + block)
                    var b = src + r0 * p + p0, ldb = p
                    if !pointwise {
                        im2col(src, rows: r0..<r1, columns: p0..<p1, into: ws, threads: inner)
                        b = UnsafePointer(ws); ldb = p1 - p0
                    }
                    Tiled.sgemm(transA: false, transB: true, m: co, n: r1 - r0, k: p1 - p0, a: dOut + p0, lda: p,
                                b: b, ldb: ldb, c: target, ldc: k, accumulate: !first, threads: inner)
                    first = false
                }
            }
        }
        if let partials {
            let span = 4096
            ConvParallel.forEach((total + span - 1) / span, threads: threads) { piece, _ in
                let lo = piece * span, n = min(total, lo + span) - lo
                let out = dw + lo
                out.update(from: partials + lo, count: n)
                for chunk in 1..<chunks {
                    let src = partials + chunk * total + lo
                    for i in 0..<n { out[i] += src[i] }
                }
            }
        }
    }

    /// Runs `count` independent items. With at least `itemsPerThread` items per thread they
    /// run in parallel, each single-threaded with its own workspace; otherwise one after
    /// another, each using every thread inside (im2col, col2im and GEMM). Both give the same
    /// bits, because GEMM's result does not depend on its thread count.
    private func runItems(_ count: Int, threads: Int, workspace: Int,
                          _ body: (_ item: Int, _ workspace: UnsafeMutablePointer<Float>, _ innerThreads: Int) -> Void) {
        guard count > 0 else { return }
        let threads = ConvParallel.resolve(threads)
        let parallel = threads > 1 && count >= threads * tuning.itemsPerThread
        let workers = parallel ? min(threads, count) : 1
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(workers * workspace, 1))
        defer { buffer.deallocate() }
        if parallel {
            ConvParallel.forEach(count, threads: workers) { item, worker in
                body(item, buffer + worker * workspace, 1)
            }
        } else {
            for item in 0..<count { body(item, buffer, threads) }
        }
    }

    // MARK: - im2col / col2im

    /// Writes rows `rows` and columns `columns` of col(src) into `dst` (row stride =
    /// `columns.count`). `src` points at channel 0 of one image's group.
    func im2col(_ src: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>,
                into dst: UnsafeMutablePointer<Float>, threads: Int) {
        let width = columns.count
        let pieces = threads > 1 ? min(rows.count, threads * 4) : 1
        ConvParallel.forEach(pieces, threads: threads) { piece, _ in
            let lo = rows.lowerBound + rows.count * piece / pieces
            let hi = rows.lowerBound + rows.count * (piece + 1) / pieces
            for r in lo..<hi {
                im2colRow(src, row: r, columns: columns, into: dst + (r - rows.lowerBound) * width)
            }
        }
    }

    /// Adds rows `rows`, columns `columns` of col (stored with row stride `columns.count`)
    /// into the input they came from. Threads split the input channels: each channel's
    /// rows are scattered by one thread, in row order.
    func col2im(_ col: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>,
                into dst: UnsafeMutablePointer<Float>, threads: Int) {
        guard !rows.isEmpty else { return }
        let width = columns.count, taps = taps
        let firstChannel = rows.lowerBound / taps, channels = (rows.upperBound - 1) / taps + 1 - firstChannel
        let pieces = threads > 1 ? min(channels, threads * 4) : 1
        ConvParallel.forEach(pieces, threads: threads) { piece, _ in
            for c in (firstChannel + channels * piece / pieces)..<(firstChannel + channels * (piece + 1) / pieces) {
                for r in max(rows.lowerBound, c * taps)..<min(rows.upperBound, (c + 1) * taps) {
                    col2imRow(col + (r - rows.lowerBound) * width, row: r, columns: columns, into: dst)
                }
            }
        }
    }

    /// The row `r = (c, kd, kh, kw)` of col(src), columns `columns`, walked one output line
    /// (fixed od, oh) at a time: zeros, a contiguous or strided copy, zeros.
    @inline(__always)
    private func im2colRow(_ src: UnsafePointer<Float>, row r: Int, columns: Range<Int>,
                           into out: UnsafeMutablePointer<Float>) {
        let (kd, kh, kw, channel) = tapOf(row: r)
        let vd = validOutputs[0][kd], vh = validOutputs[1][kh], vw = validOutputs[2][kw]
        let offD = kd * dilation[0] - padBegin[0], offH = kh * dilation[1] - padBegin[1]
        let offW = kw * dilation[2] - padBegin[2]
        let sd = stride[0], sh = stride[1], sw = stride[2]
        let inH = inSize[1], inW = inSize[2], outH = outSize[1], outW = outSize[2]
        let plane = src + channel * inSpatial
        let line = columns.lowerBound / outW
        var ow = columns.lowerBound - line * outW
        var oh = line % outH, od = line / outH
        var o = out
        var remaining = columns.count
        while remaining > 0 {
            let owEnd = min(outW, ow + remaining), count = owEnd - ow
            if od >= vd.lo && od < vd.hi && oh >= vh.lo && oh < vh.hi {
                let lo = min(max(vw.lo, ow), owEnd), hi = max(min(vw.hi, owEnd), lo)
                let base = plane + ((od * sd + offD) * inH + (oh * sh + offH)) * inW + offW
                o.update(repeating: 0, count: lo - ow)
                if sw == 1 {
                    (o + (lo - ow)).update(from: base + lo, count: hi - lo)
                } else {
                    let shifted = o - ow
                    for j in lo..<hi { shifted[j] = base[j * sw] }
                }
                (o + (hi - ow)).update(repeating: 0, count: owEnd - hi)
            } else {
                o.update(repeating: 0, count: count)
            }
            o += count; remaining -= count
            ow = 0; oh += 1
            if oh == outH { oh = 0; od += 1 }
        }
    }

    /// The adjoint of `im2colRow`: adds the row into the input positions it was read from.
    @inline(__always)
    private func col2imRow(_ colRow: UnsafePointer<Float>, row r: Int, columns: Range<Int>,
                           into dst: UnsafeMutablePointer<Float>) {
        let (kd, kh, kw, channel) = tapOf(row: r)
        let vd = validOutputs[0][kd], vh = validOutputs[1][kh], vw = validOutputs[2][kw]
        let offD = kd * dilation[0] - padBegin[0], offH = kh * dilation[1] - padBegin[1]
        let offW = kw * dilation[2] - padBegin[2]
        let sd = stride[0], sh = stride[1], sw = stride[2]
        let inH = inSize[1], inW = inSize[2], outH = outSize[1], outW = outSize[2]
        let plane = dst + channel * inSpatial
        let line = columns.lowerBound / outW
        var ow = columns.lowerBound - line * outW
        var oh = line % outH, od = line / outH
        var c = colRow
        var remaining = columns.count
        while remaining > 0 {
            let owEnd = min(outW, ow + remaining), count = owEnd - ow
            if od >= vd.lo && od < vd.hi && oh >= vh.lo && oh < vh.hi {
                let lo = min(max(vw.lo, ow), owEnd), hi = max(min(vw.hi, owEnd), lo)
                let base = plane + ((od * sd + offD) * inH + (oh * sh + offH)) * inW + offW
                let shifted = c - ow
                if sw == 1 {
                    for j in lo..<hi { base[j] += shifted[j] }
                } else {
                    for j in lo..<hi { base[j * sw] += shifted[j] }
                }
            }
            c += count; remaining -= count
            ow = 0; oh += 1
            if oh == outH { oh = 0; od += 1 }
        }
    }

    /// Row `r` of the column matrix ↔ (kernel tap kd, kh, kw; channel within the group).
    @inline(__always)
    private func tapOf(row r: Int) -> (Int, Int, Int, Int) {
        let channel = r / taps, t = r - channel * taps
        let kw = t % kernel[2], khd = t / kernel[2]
        return (khd / kernel[1], khd % kernel[1], kw, channel)
    }
}

/// Per-channel sums over images and positions, `out[c] = Σ_n Σ_p t[n, c, p]`: the bias
/// gradient. Channels are split across threads; each channel is summed by one thread in a
/// fixed order (16 SIMD lanes per image row, lanes folded, then images in order).
func convChannelSums(_ t: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                     into out: UnsafeMutablePointer<Float>, threads: Int) {
    guard channels > 0 else { return }
    let pieces = min(channels, ConvParallel.resolve(threads) * 4)
    ConvParallel.forEach(pieces, threads: threads) { piece, _ in
        for c in (channels * piece / pieces)..<(channels * (piece + 1) / pieces) {
            var total: Float = 0
            for n in 0..<batch { total += convRowSum(t + (n * channels + c) * spatial, count: spatial) }
            out[c] = total
        }
    }
}

/// Sum of `count` contiguous floats in a fixed order: 16 lanes, then the tail.
@inline(__always)
func convRowSum(_ p: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD16<Float>()
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 16 <= count {
        lanes += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    var sum = lanes.sum()
    while i < count { sum += p[i]; i += 1 }
    return sum
}

/// Static round-robin parallel loops on Dispatch's thread pool.
enum ConvParallel {
    /// `threads: 0` means every core.
    static func resolve(_ threads: Int) -> Int { threads > 0 ? threads : Tiled.defaultThreads }

    /// Calls `body(item, worker)` for every item in `0..<count`; worker `w` of
    /// `min(threads, count)` takes items `w, w + W, w + 2W, …`. Items must be independent.
    static func forEach(_ count: Int, threads: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        let workers = min(resolve(threads), count)
        if workers <= 1 {
            for item in 0..<count { body(item, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendableBox(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var item = worker
                while item < count { shared.value(item, worker); item += workers }
            }
        }
    }
}

/// Lets a closure over raw pointers cross into Dispatch's worker threads: the callers
/// guarantee that concurrent items touch disjoint memory.
struct UncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension Tiled {
    /// Traps on a descriptor that fails validation (other than the memory budget, which
    /// guards allocation by callers, not these loops): the pointer-based kernels index
    /// memory from the descriptor's shapes and must never run on a malformed one.
    /// Callers validate first (`Problem.parse`, the runner) and get a typed `ProblemError`.
    static func requireValid<P: ProblemDescriptor>(_ p: P) {
        do {
            try p.validate()
        } catch {
            if case .exceedsMemoryBudget = error { return }
            preconditionFailure("Tiled kernel called with an invalid problem '\(p)': \(error)")
        }
    }
}
