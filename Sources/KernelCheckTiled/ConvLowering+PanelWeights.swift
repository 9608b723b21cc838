// Backward-weights for wide layers (many output channels and taps, e.g. a GAN's 128 → 256
// k5 conv, or a transposed conv's stride-2 adjoint) without im2col:
// `dW[g] (Co × K) = Σ_n dY[n,g] (Co × P) · col(X[n,g])ᵀ (P × K)` as SGEMM register tiles on
// operands packed straight from their sources, per image and block of at most `kc` pixels:
// dY's rows as A panels (12 channels per step) and `colᵀ` as B panels of 32 taps, gathered
// from a zero-padded copy of the image (a tap's pixels along an output row are consecutive
// floats there, so four taps at a time go through 4 × 4 register transposes).
//
// Every element of dW is summed as SGEMM sums a K block — one chain over the block's
// pixels, added to dW in (image, block) order — and threads own whole 32-tap column panels,
// so the result does not depend on the thread count.

extension ConvLowering {
    /// Whether backward-weights takes this path: the direct geometry applies and there are
    /// enough channels and taps for the packing to pay (each packed value feeds `Co` or `K`
    /// multiply-adds).
    func usesPanelWeights(_ plan: DirectPlan) -> Bool {
        tuning.panelWeights && outChannels >= tuning.panelWeightsMinimum && columnRows >= tuning.panelWeightsMinimum
    }

    func backwardWeightsPanels(_ plan: DirectPlan, input x: UnsafePointer<Float>, output dy: UnsafePointer<Float>,
                               weights dw: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let wo = outSize[2], sh = stride[1]
        // Pixel blocks of one image, cut evenly, at most `panelWeightsBlock` (≤ kc) each.
        let most = max(1, min(GEMMBlocking.kc, tuning.panelWeightsBlock))
        let blocks = (p + most - 1) / most
        let block = (p + blocks - 1) / blocks
        let panels = (k + nr - 1) / nr
        let offsets: UnsafeMutablePointer<Int> = tapOffsets(count: panels * nr, plane: plan.plane, plan: plan)
        defer { offsets.deallocate() }
        let groups = groups, batch = batch
        let pieces = min(groups * panels, ConvParallel.resolve(threads))
        let aCount = Tiled.roundUp(co, mr) * block, bCount = block * nr
        let workspace = plan.inputCount + aCount + bCount
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: pieces * workspace)
        defer { buffer.deallocate() }
        // Items (group, 32-tap panel) split in contiguous runs; each worker keeps its own
        // padded image and packed dY (filled again when its group changes).
        ConvParallel.forEach(pieces, threads: pieces) { piece, _ in
            let xp = buffer + piece * workspace, packedA = xp + plan.inputCount, packedB = packedA + aCount
            let items = groups * panels
            let first = items * piece / pieces, last = items * (piece + 1) / pieces
            guard first < last else { return }
            for n in 0..<batch {
                var filled = -1
                for b in 0..<blocks {
                    let p0 = b * block, p1 = min(p, p0 + block), steps = p1 - p0
                    var packedGroup = -1
                    for item in first..<last {
                        let g = item / panels, panel = item % panels
                        let imageGroup = n * groups + g
                        if g != filled {
                            fillPadded(x + imageGroup * ci * inS, plan, into: xp)
                            filled = g
                        }
                        if g != packedGroup {
                            Tiled.packA(Operand(base: dy + imageGroup * co * p, ld: p, transposed: false), rows: 0, count: co,
                                        columns: p0, count: steps, into: packedA)
                            packedGroup = g
                        }
                        // B̃[s][j] = Xp[offset(tap 32·panel + j) + address(pixel p0 + s)].
                        let taps = offsets + panel * nr, valid = min(nr, k - panel * nr)
                        var s = 0
                        while s < steps {
                            let pixel = p0 + s, oh = pixel / wo, ow = pixel - oh * wo
                            let run = min(steps - s, wo - ow)
                            let base = UnsafePointer(xp) + oh * sh * plan.width + ow
                            let out = packedB + s * nr
                            for j in Swift.stride(from: 0, to: nr, by: 4) {
                                let s0 = base + taps[j], s1 = base + taps[j + 1], s2 = base + taps[j + 2], s3 = base + taps[j + 3]
                                let dst = out + j
                                var q = 0
                                while q + 4 <= run {
                                    let v0 = Tiled.load4(s0 + q), v1 = Tiled.load4(s1 + q)
                                    let v2 = Tiled.load4(s2 + q), v3 = Tiled.load4(s3 + q)
                                    Tiled.store4(SIMD4(v0[0], v1[0], v2[0], v3[0]), dst + q * nr)
                                    Tiled.store4(SIMD4(v0[1], v1[1], v2[1], v3[1]), dst + (q + 1) * nr)
                                    Tiled.store4(SIMD4(v0[2], v1[2], v2[2], v3[2]), dst + (q + 2) * nr)
                                    Tiled.store4(SIMD4(v0[3], v1[3], v2[3], v3[3]), dst + (q + 3) * nr)
                                    q += 4
                                }
                                while q < run {
                                    Tiled.store4(SIMD4(s0[q], s1[q], s2[q], s3[q]), dst + q * nr)
                                    q += 1
                                }
                            }
                            if valid < nr {
                                for q in 0..<run { (out + q * nr + valid).update(repeating: 0, count: nr - valid) }
                            }
                            s += run
                        }
                        Tiled.sgemmPrepacked(m: co, n: valid, kc: steps, packedA: packedA, packedB: packedB,
                                             c: dw + g * co * k + panel * nr, ldc: k, accumulate: n > 0 || b > 0, threads: 1)
                    }
                }
            }
        }
    }
}
