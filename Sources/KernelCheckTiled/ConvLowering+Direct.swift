// The forward convolution without im2col, for convolutions with stride 1 along the width
// (any kernel, dilation, padding, height stride; 1-D and 2-D): "direct" or implicit GEMM.
//
// Per image and group, the input is copied once into a zero-padded buffer `Xp[ci][r][c]`
// (`r = oh·s_h + kh·d_h`, `c = ow + kw·d_w` address the padded image), so for a fixed tap
// `(ci, kh, kw)` sixteen output pixels of one output row read sixteen consecutive floats.
// The register tile is `microKernel`'s 12 × 32 — 12 output channels (packed weight panels,
// shared by every image) × two vectors of 16 output pixels — with B loaded straight from
// `Xp` at `vector start + offsets[k]`, where `offsets` lists the tap offsets in weight order
// (`k = (ci, kh, kw)`). Every output element is one chain over all K steps in increasing k
// (no K blocks, no reloads of C), then the bias: the order depends only on the shape.
//
// Pixels are laid out on a virtual grid of `Ho` rows of `V` columns, the columns past `Wo`
// being junk lanes (finite reads from the padded buffer, results discarded):
// - row mode: `V = roundUp(Wo, 16)`, a vector never crosses an output row;
// - flattened mode (`s_h = 1` only): `V = Wp`, the padded width, so the whole image is one
//   contiguous run and vector `t` starts at `16·t` (56 × 56 with 3 × 3 taps: 96 % of the
//   lanes useful instead of 87.5 %).
// When `V = Wo` the tiles are written straight into `y`; otherwise into a per-worker
// virtual output, copied out afterwards.

extension ConvLowering {
    /// The geometry of the direct forward for this shape, or nil when it does not apply.
    struct DirectPlan {
        /// Padded buffer: `rows × width` per channel (`plane` floats), `inputCount` floats
        /// in all (the slack past the last plane covers the junk lanes' reads).
        var width: Int, rows: Int, plane: Int, inputCount: Int
        var flattened: Bool
        /// Virtual columns per output row, vectors per output row (row mode), vectors, tiles.
        var virtualWidth: Int, vectorsPerRow: Int, vectors: Int, tiles: Int
        /// Whether tiles are written straight into the output (`V = Wo`, whole tiles).
        var writesOutput: Bool
        /// Output channels per pass over the tiles (whole 12-row panels).
        var channelBlock: Int

        /// Offset in `Xp` of the first pixel of vector `t` (`t = vectors` is the junk
        /// vector of an odd count: any in-bounds start).
        @inline(__always)
        func start(_ t: Int, heightStride: Int) -> Int {
            if t >= vectors { return 0 }
            if flattened { return 16 * t }
            let oh = t / vectorsPerRow
            return oh * heightStride * width + (t - oh * vectorsPerRow) * 16
        }
    }

    var directPlan: DirectPlan? {
        guard tuning.direct, !isPointwise, !usesDual, batch > 0, groups > 0, columnRows > 0, outChannels > 0,
              outSpatial > 0 else { return nil }
        // Depth must be trivial (1-D and 2-D problems), the width stride 1.
        guard inSize[0] == 1, outSize[0] == 1, kernel[0] == 1, padBegin[0] == 0, stride[2] == 1 else { return nil }
        let ho = outSize[1], wo = outSize[2], sh = stride[1]
        let kh = kernel[1], kw = kernel[2], dh = dilation[1], dw = dilation[2]
        let width = wo + (kw - 1) * dw, rows = (ho - 1) * sh + (kh - 1) * dh + 1
        let plane = rows * width
        let maxTap = (inChannels - 1) * plane + (kh - 1) * dh * width + (kw - 1) * dw
        func count(_ vectors: Int) -> Int { (vectors + 1) / 2 }
        let rowWidth = Tiled.roundUp(wo, 16)
        let rowVectors = ho * (rowWidth / 16)
        let useful = Double(ho * wo)
        let rowEfficiency = useful / Double(count(rowVectors) * 32)
        let flatVectors = (ho * width + 15) / 16
        let flatEfficiency = sh == 1 ? useful / Double(count(flatVectors) * 32) : 0
        let flattened = flatEfficiency > rowEfficiency
        guard max(rowEfficiency, flatEfficiency) >= tuning.directMinimumEfficiency else { return nil }
        let vectors = flattened ? flatVectors : rowVectors
        let lastStart = flattened ? 16 * (vectors - 1) : (ho - 1) * sh * width + (rowWidth - 16)
        let inputCount = max(inChannels * plane, lastStart + 16 + maxTap)
        // Byte offsets are Int32.
        guard inputCount < (1 << 29) else { return nil }
        let k = columnRows, mr = GEMMBlocking.mr
        let block = max(mr, tuning.directWeightBudget / max(1, k) / mr * mr)
        return DirectPlan(width: width, rows: rows, plane: plane, inputCount: inputCount, flattened: flattened,
                          virtualWidth: flattened ? width : rowWidth, vectorsPerRow: rowWidth / 16, vectors: vectors,
                          tiles: count(vectors), writesOutput: !flattened && rowWidth == wo && vectors % 2 == 0,
                          channelBlock: block)
    }

    /// `forward` through the direct kernels (see the top of this file).
    func forwardDirect(_ plan: DirectPlan, input x: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                       bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let mr = GEMMBlocking.mr
        let groups = groups, channelsOut = groups * co
        let aStride = Tiled.roundUp(co, mr) * k
        let packedW = UnsafeMutablePointer<Float>.allocate(capacity: groups * aStride)
        defer { packedW.deallocate() }
        ConvParallel.forEach(groups, threads: threads) { g, _ in
            Tiled.packA(Operand(base: w + g * co * k, ld: k, transposed: false), rows: 0, count: co,
                        columns: 0, count: k, into: packedW + g * aStride)
        }
        // Byte offsets of the taps in weight order k = (ci, kh, kw).
        let offsets = UnsafeMutablePointer<Int32>.allocate(capacity: k)
        defer { offsets.deallocate() }
        let kh = kernel[1], kw = kernel[2], dh = dilation[1], dw = dilation[2]
        for c in 0..<ci {
            for i in 0..<kh {
                for j in 0..<kw {
                    offsets[(c * kh + i) * kw + j] = Int32(4 * (c * plan.plane + i * dh * plan.width + j * dw))
                }
            }
        }
        if plan.writesOutput, let bias {
            ConvParallel.forEach(batch * channelsOut, threads: threads) { row, _ in
                (y + row * p).update(repeating: bias[row % channelsOut], count: p)
            }
        }
        let ldv = plan.tiles * 32
        let virtualCount = plan.writesOutput ? 0 : co * ldv
        let sh = stride[1], ho = outSize[1], wo = outSize[2], vw = plan.virtualWidth
        let loadC = plan.writesOutput && bias != nil
        runItems(batch * groups, threads: threads, workspace: plan.inputCount + virtualCount) { imageGroup, ws, inner in
            let g = imageGroup % groups
            let padded = ws, virtual = ws + plan.inputCount
            fillPadded(x + imageGroup * ci * inS, plan, into: padded)
            let target = plan.writesOutput ? y + imageGroup * co * p : virtual
            let ldc = plan.writesOutput ? p : ldv
            let aBase = UnsafePointer(packedW + g * aStride)
            let pieces = inner > 1 ? min(plan.tiles, inner) : 1
            ConvParallel.forEach(pieces, threads: inner) { piece, _ in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: mr * 32) { scratch in
                    let tile = scratch.baseAddress!
                    let first = plan.tiles * piece / pieces, last = plan.tiles * (piece + 1) / pieces
                    for c0 in Swift.stride(from: 0, to: co, by: plan.channelBlock) {
                        let c1 = min(co, c0 + plan.channelBlock)
                        for t in first..<last {
                            let b0 = UnsafeRawPointer(padded + plan.start(2 * t, heightStride: sh))
                            let b1 = UnsafeRawPointer(padded + plan.start(2 * t + 1, heightStride: sh))
                            for ir in Swift.stride(from: c0, to: c1, by: mr) {
                                let height = min(mr, co - ir)
                                let a = aBase + ir * k, c = target + ir * ldc + 32 * t
                                switch height {
                                case 12:
                                    Tiled.directKernel12(k: k, a: a, offsets: offsets, b0: b0, b1: b1, c: c, ldc: ldc, loadC: loadC)
                                case 8:
                                    Tiled.directKernel8(k: k, a: a, offsets: offsets, b0: b0, b1: b1, c: c, ldc: ldc, loadC: loadC)
                                case 4:
                                    Tiled.directKernel4(k: k, a: a, offsets: offsets, b0: b0, b1: b1, c: c, ldc: ldc, loadC: loadC)
                                default:
                                    if height < 4 {
                                        Tiled.directKernel4(k: k, a: a, offsets: offsets, b0: b0, b1: b1, c: tile, ldc: 32, loadC: false)
                                    } else if height < 8 {
                                        Tiled.directKernel8(k: k, a: a, offsets: offsets, b0: b0, b1: b1, c: tile, ldc: 32, loadC: false)
                                    } else {
                                        Tiled.directKernel12(k: k, a: a, offsets: offsets, b0: b0, b1: b1, c: tile, ldc: 32, loadC: false)
                                    }
                                    Output(base: c, ld: ldc, transposed: false)
                                        .merge(tile: tile, stride: 32, row: 0, column: 0, height: height, width: 32, adding: loadC)
                                }
                            }
                        }
                    }
                }
            }
            guard !plan.writesOutput else { return }
            // Copy the valid lanes out (plus the bias: bias + chain, as `store` adds C).
            let out = y + imageGroup * co * p
            ConvParallel.forEach(pieces, threads: inner) { piece, _ in
                for c in (co * piece / pieces)..<(co * (piece + 1) / pieces) {
                    let b = bias?[g * co + c]
                    for oh in 0..<ho {
                        let src = virtual + c * ldv + oh * vw, dst = out + c * p + oh * wo
                        if let b {
                            for j in 0..<wo { dst[j] = b + src[j] }
                        } else {
                            dst.update(from: src, count: wo)
                        }
                    }
                }
            }
        }
    }

    /// `Xp[ci][r][c] = x[ci][r − pb_h][c − pb_w]` (zero outside the input), then zeros to
    /// `inputCount`. `src` points at channel 0 of one image's group.
    private func fillPadded(_ src: UnsafePointer<Float>, _ plan: DirectPlan, into xp: UnsafeMutablePointer<Float>) {
        let inH = inSize[1], inW = inSize[2], pbh = padBegin[1], pbw = padBegin[2]
        let width = plan.width
        // Columns c of a padded row that hold input columns c − pbw.
        let lo = min(pbw, width), hi = max(lo, min(width, pbw + inW))
        for c in 0..<inChannels {
            let plane = src + c * inSpatial, dst = xp + c * plan.plane
            for r in 0..<plan.rows {
                let row = dst + r * width, i = r - pbh
                if i < 0 || i >= inH || hi == lo {
                    row.update(repeating: 0, count: width)
                } else {
                    row.update(repeating: 0, count: lo)
                    (row + lo).update(from: plane + i * inW + (lo - pbw), count: hi - lo)
                    (row + hi).update(repeating: 0, count: width - hi)
                }
            }
        }
        let filled = inChannels * plan.plane
        (xp + filled).update(repeating: 0, count: plan.inputCount - filled)
    }
}
