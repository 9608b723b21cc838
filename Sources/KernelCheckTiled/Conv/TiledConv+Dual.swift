import KernelCheckProblems

// **Dual lowering** (few output channels, e.g. a 256 → 3 RGB head): col has `Ci·∏k` rows of
// `P` columns, but the same products can go through a buffer with `Co·∏k` rows over the
// *input* positions, with `Wd[g][(co, k…), ci] = W[g·Co + co, ci, k…]`:
//
// - forward: `Z = Wd[g] · X[n,g]`, then `Y[co, o] = b + Σ_k Z[(co, k), o·s − pb + k·d]`
//   (`gatherAdd`, the taps summed in order);
// - backward-data: `D[(co, k), i] = dY[co, o]` where `i = o·s − pb + k·d`, zero elsewhere
//   (`scatter`), then `dX[n,g] = Wd[g]ᵀ · D` (written directly, no col2im);
// - backward-weights: `dWd[g] = Σ_n D_n · X[n,g]ᵀ`, reordered into `dW`.
//
// `ConvPlan` chooses it (`usesDual`) when `Co·∏k·∏in` is several times smaller than `Ci·∏k·P`.

extension TiledConv {
    /// `out[g][(co, t), ci] = w[g·Co + co, ci, t]`, or the inverse permutation.
    func permuteWeights(_ w: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, toDual: Bool) {
        let co = outChannels, ci = inChannels, taps = taps
        for g in 0..<groups {
            for c in 0..<co {
                for i in 0..<ci {
                    for t in 0..<taps {
                        let standard = ((g * co + c) * ci + i) * taps + t
                        let dual = ((g * co + c) * taps + t) * ci + i
                        if toDual { out[dual] = w[standard] } else { out[standard] = w[dual] }
                    }
                }
            }
        }
    }

    /// Permutes `w` into the dual weights `Wd` once, then runs `body(imageGroup, Wd[g],
    /// buffer, innerThreads)` for every (image, group) `imageGroup = n·G + g`, with a buffer
    /// of `dualRows × inSpatial` floats of its own.
    private func forEachDualImageGroup(
        _ w: UnsafePointer<Float>, threads: Int,
        _ body: (Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) {
        let rows = dualRows, ci = inChannels
        let wd = Tiled.allocateFloats(groups * rows * ci)
        defer { wd.deallocate() }
        permuteWeights(w, into: wd, toDual: true)
        let groups = groups
        runItems(batch * groups, threads: threads, workspace: rows * inSpatial) { imageGroup, buffer, inner in
            body(imageGroup, UnsafePointer(wd + imageGroup % groups * rows * ci), buffer, inner)
        }
    }

    /// Forward through `Z = Wd · X`, `Y = b + gatherAdd(Z)`. A narrow `x` is widened while
    /// the SGEMM packs it.
    func forwardDual(
        input x: Tiled.Input, weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let p = outSpatial, co = outChannels, ci = inChannels, inS = inSpatial, rows = dualRows
        let channelsOut = groups * co
        Tiled.forEachItem(batch * channelsOut, threads: threads) { row, _ in
            (y + row * p).update(repeating: bias?[row % channelsOut] ?? 0, count: p)
        }
        guard inS > 0 else { return }
        forEachDualImageGroup(w, threads: threads) { imageGroup, wd, z, inner in
            Tiled.gemm(
                transA: false, transB: false, m: rows, n: inS, k: ci, a: Tiled.Input(wd), lda: ci,
                b: x.advanced(by: imageGroup * ci * inS), ldb: inS, c: z, ldc: inS, accumulate: false,
                threads: inner)
            gatherAdd(z, into: y + imageGroup * co * p, threads: inner)
        }
    }

    /// Backward-data through `D = scatter(dY)`, `dX = Wdᵀ · D`.
    func backwardDataDual(
        output dy: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
        input dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let p = outSpatial, co = outChannels, ci = inChannels, inS = inSpatial, rows = dualRows
        forEachDualImageGroup(w, threads: threads) { imageGroup, wd, d, inner in
            scatter(dy + imageGroup * co * p, into: d, threads: inner)
            Tiled.sgemm(
                transA: true, transB: false, m: ci, n: inS, k: rows, a: wd, lda: ci,
                b: d, ldb: inS, c: dx + imageGroup * ci * inS, ldc: inS, accumulate: false, threads: inner)
        }
    }

    /// Backward-weights through `dWd = Σ_n scatter(dY_n) · X_nᵀ`, then the permutation back.
    /// A narrow `x` is widened while the SGEMM packs it.
    func backwardWeightsDual(
        input x: Tiled.Input, output dy: UnsafePointer<Float>,
        weights dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let p = outSpatial, co = outChannels, ci = inChannels, inS = inSpatial, rows = dualRows
        let total = groups * rows * ci
        let (chunks, imagesPerChunk) = reductionChunks(itemsPerChunk: groups)
        let partials = Tiled.allocateFloats(chunks * total)
        defer { partials.deallocate() }
        let groups = groups, batch = batch
        runItems(chunks * groups, threads: threads, workspace: rows * inS) { item, d, inner in
            let g = item % groups, chunk = item / groups
            let target = partials + chunk * total + g * rows * ci
            var first = true
            for n in (chunk * imagesPerChunk)..<min(batch, (chunk + 1) * imagesPerChunk) {
                let imageGroup = n * groups + g
                scatter(dy + imageGroup * co * p, into: d, threads: inner)
                Tiled.gemm(
                    transA: false, transB: true, m: rows, n: ci, k: inS, a: Tiled.Input(d), lda: inS,
                    b: x.advanced(by: imageGroup * ci * inS), ldb: inS, c: target, ldc: ci, accumulate: !first,
                    threads: inner)
                first = false
            }
        }
        if chunks > 1 {
            let summed = Tiled.allocateFloats(total)
            defer { summed.deallocate() }
            sumPartials(partials, chunks: chunks, count: total, into: summed, threads: threads)
            permuteWeights(summed, into: dw, toDual: false)
        } else {
            permuteWeights(partials, into: dw, toDual: false)
        }
    }
}
