import CKernelSupport

// Backward-data as direct forwards: the output-phase (sub-pixel) decomposition.
//
// Per spatial dimension (height, width; depth trivial), with stride s, K taps, dilation d,
// begin padding pb, input size IN (dX) and output size OUT (dY):
//
//     dX[i] = Σ_{k, o : o·s + k·d = i + pb} W[k] · dY[o].
//
// Write j = i + pb = s·q + r (the phase r = j mod s). The taps reaching phase r are
// T_r = {k : k·d ≡ r (mod s)}, each with m_k = (k·d − r)/s and o = q − m_k. So on the dX
// positions i = s·q + r − pb, dX is a stride-1 correlation of dY with the sub-kernel T_r:
// with g = gcd(d, s) the phases r ≢ 0 (mod g) have no taps (those dX are zero), the others'
// taps step by s/g in k and d/g in m, so a phase is a stride-1 convolution of n_r = |T_r|
// taps and dilation d/g. Its outputs are q ∈ [q0, q1), q0 = ⌈(pb − r)/s⌉ ≥ 0,
// q1 = ⌈(IN + pb − r)/s⌉; in the taps' reversed order (as in any adjoint) its begin padding
// is M_r − q0, M_r = max m_k: output u = q − q0 reads dY at
// u − (M_r − q0) + t'·d/g = q − m_{k(t')} for the t'-th tap from the end. Reads past dY's end
// are zero (the padded buffer), so the end padding may be anything.
//
// In 2-D the phases are the pairs (r_h, r_w): s_h·s_w stride-1 convolutions of dY
// (Co channels per group) to Ci channels, with weights W'[g][ci][co][th][tw] =
// W[g][co][ci][k_h(th)][k_w(tw)] (taps reversed), each writing the dX rows s_h·u_h + i0_h
// and columns s_w·u_w + i0_w (i0 = s·q0 + r − pb ∈ [0, s)). Every dX position belongs to
// exactly one phase and is one chain over that phase's K = Co·n_h·n_w steps in a fixed order,
// so the result is the same for any thread count. With stride 1 there is one phase: the
// adjoint convolution itself, written contiguously.

extension TiledConv {
    /// Where the direct forward writes output channel `c` (of an image's group), pixel
    /// `(oh, ow)`: `y + imageGroup·imageGroupStride + c·channelStride + origin + oh·rowStride +
    /// ow·columnStride`. The plain layout is `(0, Wo, 1, P, Co·P)`.
    struct DirectOutputLayout: Equatable {
        var origin: Int, rowStride: Int, columnStride: Int, channelStride: Int, imageGroupStride: Int
    }

    /// The contiguous `N × G·Co × Ho × Wo` output of this convolution.
    var contiguousOutput: DirectOutputLayout {
        DirectOutputLayout(
            origin: 0, rowStride: outSize[2], columnStride: 1, channelStride: outSpatial,
            imageGroupStride: outChannels * outSpatial)
    }

    /// Calls `body(j, first, n)` for each run of a tile's virtual pixels `firstPixel ..<
    /// firstPixel + tileWidth` (on the plan's grid of `virtualWidth` columns) that lands in
    /// an output row: tile columns `j ..< j + n` go to `first + i·columnStride` in the tile's
    /// first channel (`out`); junk columns are skipped.
    @inline(__always)
    func forEachOutputRun(
        tileWidth: Int, firstPixel: Int, virtualWidth vw: Int, into out: UnsafeMutablePointer<Float>,
        layout: DirectOutputLayout, _ body: (_ j: Int, _ first: UnsafeMutablePointer<Float>, _ n: Int) -> Void
    ) {
        let ho = outSize[1], wo = outSize[2]
        var j = 0
        while j < tileWidth {
            let v = firstPixel + j, oh = v / vw, ow = v - oh * vw
            let run = min(tileWidth - j, vw - ow)
            if oh < ho && ow < wo {
                body(j, out + layout.origin + oh * layout.rowStride + ow * layout.columnStride, min(run, wo - ow))
            }
            j += run
        }
    }

    /// Deals the `rows × tileWidth` scratch tile out to its output rows (`forEachOutputRun`):
    /// `y = bias + chain` (as the kernels' `store` adds C). `bias` is the tile's first
    /// channel's bias.
    @inline(__always)
    func dealTile(
        _ tile: UnsafePointer<Float>, tileWidth: Int, firstPixel: Int, rows: Int, virtualWidth vw: Int,
        into out: UnsafeMutablePointer<Float>, layout: DirectOutputLayout, bias: UnsafePointer<Float>?
    ) {
        let cs = layout.columnStride
        forEachOutputRun(tileWidth: tileWidth, firstPixel: firstPixel, virtualWidth: vw, into: out, layout: layout) {
            j, first, n in
            for r in 0..<rows {
                let src = tile + r * tileWidth + j, dst = first + r * layout.channelStride
                if cs == 1 {
                    TiledConv.copyRun(from: src, to: dst, count: n, adding: bias?[r])
                } else if let bias {
                    let b = bias[r]
                    for i in 0..<n { dst[i * cs] = b + src[i] }
                } else {
                    for i in 0..<n { dst[i * cs] = src[i] }
                }
            }
        }
    }
}

extension TiledConv {
    /// `dst[i] = src[i]` (plus `bias` when given) for `i < count`, in 16-float vector moves and
    /// one overlapping last move (or two of 8 for 8 ≤ count < 16): the runs of a tile's rows
    /// are short (a ResNet 56 × 56 forward's tiles cross output rows), and a `memmove` call
    /// per run costs more than the copy. The buffers must not overlap.
    @inline(__always)
    static func copyRun(
        from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int, adding bias: Float?
    ) {
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        @inline(__always) func move<V: SIMD>(_: V.Type, _ byteOffset: Int) where V.Scalar == Float {
            let v = s.loadUnaligned(fromByteOffset: byteOffset, as: V.self)
            d.storeBytes(of: bias.map { v + $0 } ?? v, toByteOffset: byteOffset, as: V.self)
        }
        if count >= 16 {
            var i = 0
            while i + 16 <= count { move(SIMD16<Float>.self, 4 * i); i += 16 }
            if i < count { move(SIMD16<Float>.self, 4 * (count - 16)) }
        } else if count >= 8 {
            move(SIMD8<Float>.self, 0)
            move(SIMD8<Float>.self, 4 * (count - 8))
        } else {
            for i in 0..<count { dst[i] = bias.map { $0 + src[i] } ?? src[i] }
        }
    }
}

extension TiledConv {
    /// Prefetches (for writing) the output lines `dealTile` will write for the same tile, so
    /// a strided layout's scattered stores do not wait on their lines after the kernel.
    @inline(__always)
    func prefetchDeal(
        tileWidth: Int, firstPixel: Int, rows: Int, virtualWidth vw: Int,
        into out: UnsafeMutablePointer<Float>, layout: DirectOutputLayout
    ) {
        forEachOutputRun(tileWidth: tileWidth, firstPixel: firstPixel, virtualWidth: vw, into: out, layout: layout) {
            _, first, n in
            let span = (n - 1) * layout.columnStride
            for r in 0..<rows {
                let dst = first + r * layout.channelStride
                var i = 0
                while i < span { kc_prefetch_write(dst + i); i += 16 }
                kc_prefetch_write(dst + span)
            }
        }
    }
}

extension TiledConv {
    /// One dimension of one phase: the original taps it uses in the phase's (reversed)
    /// order, its dilation and begin padding as a stride-1 convolution of dY, and the dX
    /// positions it writes, `first + s·u` for `u < count`.
    struct PhaseAxis {
        var taps: [Int], dilation: Int, padBegin: Int, first: Int, count: Int
    }

    /// Phase `r` of dimension `dim` (see the top of this file).
    func phaseAxis(_ dim: Int, phase r: Int) -> PhaseAxis {
        let s = stride[dim], d = dilation[dim], pb = padBegin[dim], n = inSize[dim]
        let taps = (0..<kernel[dim]).filter { ($0 * d) % s == r }
        // pb ≥ 0 and r < s, so both numerators are ≥ 0 and `/` is the floor.
        let q0 = (pb - r + s - 1) / s, q1 = (n + pb - r + s - 1) / s
        let count = max(0, q1 - q0)
        let m = taps.map { ($0 * d - r) / s }
        let step = m.count > 1 ? m[1] - m[0] : 1
        return PhaseAxis(
            taps: taps.reversed(), dilation: step, padBegin: (m.last ?? 0) - q0,
            first: s * q0 + r - pb, count: count)
    }

    /// One output phase of backward-data: a stride-1 convolution of dY (`lowering`, run by
    /// the direct forward through `plan`) whose outputs land in dX through `output`; its
    /// weights take the original taps `heightTaps × widthTaps` (reversed order).
    struct DirectPhase {
        var lowering: TiledConv
        var plan: DirectPlan
        var output: DirectOutputLayout
        var heightTaps: [Int], widthTaps: [Int]
    }

    /// The phases of a backward-data, and whether dX must be cleared first.
    typealias DirectAdjoint = (phases: [DirectPhase], zeroFill: Bool)

    /// Backward-data as direct forwards of its output phases, or nil when that does not
    /// apply (`adjointAttempt` says why).
    var directAdjoint: DirectAdjoint? { try? adjointAttempt.get() }

    /// Backward-data as direct forwards of its output phases, or why not: some phase has no
    /// direct plan or a negative begin padding, or no phase has more than one tap.
    /// `zeroFill`: some dX positions belong to a phase without taps (they receive no
    /// products), so dX is cleared first.
    var adjointAttempt: Result<DirectAdjoint, PathUnavailable> {
        func no(_ reason: String) -> Result<DirectAdjoint, PathUnavailable> { .failure(PathUnavailable(reason)) }
        if !tuning.direct { return no("direct paths are off in the tuning") }
        if usesDual { return no("the dual lowering applies") }
        if isPointwise { return no("1×1 stride 1: a plain GEMM") }
        guard inSize[0] == 1, outSize[0] == 1, kernel[0] == 1, padBegin[0] == 0 else {
            return no("3-D: the direct kernels take 1-D and 2-D problems")
        }
        var phases: [DirectPhase] = []
        var zeroFill = false
        for rh in 0..<stride[1] {
            let h = phaseAxis(1, phase: rh)
            if h.count == 0 { continue }
            for rw in 0..<stride[2] {
                let w = phaseAxis(2, phase: rw)
                if w.count == 0 { continue }
                if h.taps.isEmpty || w.taps.isEmpty {
                    zeroFill = true
                    continue
                }
                guard h.padBegin >= 0, w.padBegin >= 0 else {
                    return no("phase (\(rh), \(rw)) would need a negative begin padding")
                }
                var lowering = TiledConv(
                    batch: batch, groups: groups, inChannelsPerGroup: outChannels,
                    outChannelsPerGroup: inChannels, inputSize: outSize,
                    outputSize: [1, h.count, w.count], kernel: [1, h.taps.count, w.taps.count],
                    stride: [1, 1, 1], dilation: [1, h.dilation, w.dilation],
                    padBegin: [0, h.padBegin, w.padBegin], tuning: tuning)
                // A phase of one tap with nothing cropped is 1×1 (k2 s2, k3 s2 p1 op1): it
                // still runs direct, as the strided output needs the tiles dealt out.
                lowering.isPointwise = false
                let plan: DirectPlan
                switch lowering.directAttempt {
                case .success(let p): plan = p
                case .failure(let why): return no("phase (\(rh), \(rw)): \(why.reason)")
                }
                let output = DirectOutputLayout(
                    origin: h.first * inSize[2] + w.first, rowStride: stride[1] * inSize[2],
                    columnStride: stride[2], channelStride: inSpatial,
                    imageGroupStride: inChannels * inSpatial)
                phases.append(
                    DirectPhase(
                        lowering: lowering, plan: plan, output: output,
                        heightTaps: h.taps, widthTaps: w.taps))
            }
        }
        // Channel lanes for every phase or for none: the phases share one panel layout.
        if !phases.allSatisfy({ $0.plan.channelLanes }) {
            for i in phases.indices { phases[i].plan.channelLanes = false }
        }
        // Phases of one tap each (kernel ≤ stride, e.g. a 1×1 stride-2 projection) are plain
        // GEMMs with no overlapping outputs, which the packed path runs with less copying.
        guard phases.contains(where: { $0.lowering.taps > 1 }) else {
            return no("every phase has a single tap (kernel ≤ stride)")
        }
        return .success((phases, zeroFill))
    }

    /// Copies one K step of a packed panel: `rows` (a multiple of 4) floats, 4 at a time.
    @inline(__always)
    static func copyPanelRow(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, rows: Int) {
        for r in Swift.stride(from: 0, to: rows, by: 4) {
            Tiled.store(Tiled.load(src + r, as: SIMD4<Float>.self), dst + r)
        }
    }

    /// `backwardData` as the direct forwards of `directAdjoint`'s phases, one after another
    /// (each uses every thread), each with its weights gathered as
    /// `W'[g][ci][co][th][tw] = W[g][co][ci][k_h(th)][k_w(tw)]`: straight into the 12 × 32
    /// path's panels, all phases in one sweep over `W` (a block of `W[g][co]` is read once,
    /// contiguously, and each (co, panel) block transposed once), or through `W'` for the
    /// few-channel path.
    func backwardDataDirect(
        _ adjoint: DirectAdjoint, output dy: Tiled.Input,
        weights w: Tiled.Input, input dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let co = outChannels, ci = inChannels, taps = taps, kw = kernel[2], groups = groups
        if adjoint.zeroFill {
            let count = batch * groups * ci * inSpatial
            let span = 1 << 16
            Tiled.forEachItem((count + span - 1) / span, threads: threads) { piece, _ in
                let lo = piece * span
                (dx + lo).update(repeating: 0, count: min(count, lo + span) - lo)
            }
        }
        let phases = adjoint.phases
        // Original tap index of each phase tap (th, tw), phase after phase.
        var tapStarts = [0], tapIndex: [Int] = []
        for phase in phases {
            for kh in phase.heightTaps { for kwTap in phase.widthTaps { tapIndex.append(kh * kw + kwTap) } }
            tapStarts.append(tapIndex.count)
        }
        if phases.allSatisfy({ $0.plan.wideRows == 0 }) {
            // Every phase has Ci output channels, so the same panels.
            let panels = Self.weightPanels(phases[0].plan, outputChannels: ci)
            let panelRows = Self.panelRows(panels)
            let sizes = phases.indices.map { groups * panelRows * co * (tapStarts[$0 + 1] - tapStarts[$0]) }
            let starts = sizes.indices.map { sizes[..<$0].reduce(0, +) }
            let packed = Tiled.allocateFloats(max(1, sizes.reduce(0, +)))
            defer { packed.deallocate() }
            // packed_φ[g][panel][(o, t)][r] = W[g][o][first + r][tap_φ(t)], zero past `valid`:
            // each (o, panel) block of W, `valid` rows of `taps` contiguous floats, is
            // transposed once (`packPanel`), then its tap rows are copied in phase order
            // instead of a strided scalar gather. Items take a quarter of Co each, so that
            // two threads share an odd panel count evenly.
            let quarters = min(4, co)
            Tiled.forEachItem(groups * panels.count * quarters, threads: threads) { item, _ in
                let g = item / (panels.count * quarters), panel = panels[item / quarters % panels.count]
                let rows = panel.rows, quarter = item % quarters
                Tiled.withScratchFloats(taps * rows) { transposed in
                    for o in (co * quarter / quarters)..<(co * (quarter + 1) / quarters) {
                        Self.packPanel(
                            w.advanced(by: ((g * co + o) * ci + panel.first) * taps), ld: taps, panel,
                            length: taps, into: transposed)
                        for (phi, start) in starts.enumerated() {
                            let t0 = tapStarts[phi], pt = tapStarts[phi + 1] - t0, k = co * pt
                            let dst = packed + start + (g * panelRows + panel.first) * k + o * pt * rows
                            for t in 0..<pt {
                                Self.copyPanelRow(transposed + tapIndex[t0 + t] * rows, to: dst + t * rows, rows: rows)
                            }
                        }
                    }
                }
            }
            for (phi, phase) in phases.enumerated() {
                phase.lowering.forwardDirect(
                    phase.plan, input: dy, panels: panels, packedWeights: packed + starts[phi],
                    bias: nil, output: dx, layout: phase.output, threads: threads)
            }
            return
        }
        // The few-channel phases gather single taps of W: a narrow W is widened up front.
        Tiled.withFloats(w, count: groups * co * ci * taps, threads: threads) { w in
            backwardDataDirectWide(
                adjoint, output: dy, weights: w!, input: dx, tapStarts: tapStarts, tapIndex: tapIndex,
                threads: threads)
        }
    }

    /// The phases of `backwardDataDirect` when some phase runs the few-channel kernels: each
    /// phase's weights gathered into `W'`, then its direct forward.
    private func backwardDataDirectWide(
        _ adjoint: DirectAdjoint, output dy: Tiled.Input, weights w: UnsafePointer<Float>,
        input dx: UnsafeMutablePointer<Float>, tapStarts: [Int], tapIndex: [Int], threads: Int
    ) {
        let co = outChannels, ci = inChannels, taps = taps, groups = groups, phases = adjoint.phases
        let most = phases.indices.map { tapStarts[$0 + 1] - tapStarts[$0] }.max() ?? 0
        let gathered = Tiled.allocateFloats(max(1, groups * ci * co * most))
        defer { gathered.deallocate() }
        for (phi, phase) in phases.enumerated() {
            let t0 = tapStarts[phi], pt = tapStarts[phi + 1] - t0
            Tiled.forEachItem(groups * ci, threads: threads) { row, _ in
                let g = row / ci, c = row % ci
                let dst = gathered + row * co * pt
                for o in 0..<co {
                    let src = w + ((g * co + o) * ci + c) * taps, out = dst + o * pt
                    for t in 0..<pt { out[t] = src[tapIndex[t0 + t]] }
                }
            }
            phase.lowering.forwardDirect(
                phase.plan, input: dy, weights: Tiled.Input(gathered), bias: nil, output: dx,
                layout: phase.output, threads: threads)
        }
    }
}
