import KernelCheckProblems

// Path and threshold coverage: which path one direction of a problem takes and which
// blocking boundaries it crosses, computed by calling the functions the kernels decide with
// (`ConvPlan`, `directBands`, `pairsImages`, `directPanels`, `packedTiles`, `tiles`,
// `reductionChunks`, `GEMMSplit`), never by counting inside the kernels' loops. The few
// rules the kernels compute inline (runItems' parallel test, thread pieces, the panel path's
// block count, the backward-weights bands) are restated below beside the kernel they come
// from; `PlanCoverageTests` pins them on hand-derived shapes.

/// A blocking boundary of the tiled kernels: a size past which the code takes a second
/// iteration of some block loop (or a split, or an edge tile) that smaller problems never run.
public enum CoverageBoundary: String, CaseIterable, Sendable, Codable, Comparable {
    /// The direct forward's padded image is cut into several bands (`directBands`), the
    /// direct backward-weights sweeps several pixel bands (`directBandPixels`), or the
    /// channel lanes cut an image into bands of rows or blocks of input channels.
    case bandSplit = "band_split"
    /// `panelWeights` or `laneWeights` cuts an image into several pixel blocks
    /// (`panelWeightsBlock`, `laneWeightsBlock`).
    case panelBlocks = "panel_blocks"
    /// A GEMM's K exceeds one K block (`GEMMBlocking.kc`, or one packed slab).
    case kPastKc = "k_past_kc"
    /// A GEMM's N exceeds one packed B block (`GEMMBlocking.nc`).
    case nPastNc = "n_past_nc"
    /// A GEMM's M exceeds one packed A block (`GEMMBlocking.mc`).
    case mPastMc = "m_past_mc"
    /// More than one thread computes the result (items, tiles, panels or C blocks split).
    case threadSplit = "thread_split"
    /// Some register tile is partial: rows or columns padded to a whole tile (panel rows past
    /// the channels, junk lanes, C edges narrower than `mr × nr`).
    case edgeTiles = "edge_tiles"

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What one direction of one problem ran in the tiled implementation: the plan (`kernel`:
/// which dispatcher chose), the path it took, and the blocking boundaries it crossed.
public struct PlanCoverage: Hashable, Sendable, Codable {
    /// `conv_forward`, `conv_backward_data`, `conv_backward_weights`, `conv_bias` (the
    /// convolution's plans; a transposed convolution runs its adjoint's), `gemm` (matmul,
    /// linear) or `linear_bias`.
    public var kernel: String
    public var path: String
    public var boundaries: Set<CoverageBoundary>

    public init(kernel: String, path: String, boundaries: Set<CoverageBoundary>) {
        self.kernel = kernel
        self.path = path
        self.boundaries = boundaries
    }
}

/// One path a plan can take and the boundaries that path can cross: the list coverage is
/// measured against (`Tiled.coverageTargets`), so a path or boundary never reached shows
/// up as a gap.
public struct CoverageTarget: Hashable, Sendable, Codable {
    public var kernel: String
    public var path: String
    public var boundaries: [CoverageBoundary]

    public init(kernel: String, path: String, boundaries: [CoverageBoundary]) {
        self.kernel = kernel
        self.path = path
        self.boundaries = boundaries
    }
}

extension ConvPath {
    /// The plans (by `PlanCoverage.kernel`) that can choose this path, and the boundaries it
    /// can cross there. Exhaustive: a new path must be placed here before it compiles, and
    /// then counts as a gap until some problem reaches it.
    var coverageKernels: [(kernel: String, boundaries: [CoverageBoundary])] {
        let gemm: [CoverageBoundary] = [.kPastKc, .nPastNc, .mPastMc, .threadSplit, .edgeTiles]
        let direct: [CoverageBoundary] = [.bandSplit, .threadSplit, .edgeTiles]
        switch self {
        case .empty:
            return ["conv_forward", "conv_backward_data", "conv_backward_weights"].map { ($0, []) }
        case .dual, .pointwise:
            return ["conv_forward", "conv_backward_data", "conv_backward_weights"].map { ($0, gemm) }
        case .direct, .directWide: return [("conv_forward", direct)]
        // Only 16-lane variants take it: elsewhere no problem can reach it.
        case .channelLanes:
            guard KernelVariant.current.lanes == 16 else { return [] }
            return ["conv_forward", "conv_backward_data"].map { ($0, [.bandSplit, .threadSplit, .edgeTiles]) }
        case .packedIm2col: return [("conv_forward", [.kPastKc, .mPastMc, .threadSplit, .edgeTiles])]
        case .directPhases: return [("conv_backward_data", direct)]
        // K is Co ≤ kc by the plan's own rule, so one K block.
        case .packedCol2im: return [("conv_backward_data", [.mPastMc, .threadSplit, .edgeTiles])]
        case .im2colCol2im: return [("conv_backward_data", gemm)]
        case .directWeights, .virtualGridWeights: return [("conv_backward_weights", direct)]
        case .panelWeights: return [("conv_backward_weights", [.panelBlocks, .threadSplit, .edgeTiles])]
        case .laneWeights: return [("conv_backward_weights", [.panelBlocks, .threadSplit, .edgeTiles])]
        case .im2colWeights: return [("conv_backward_weights", gemm)]
        case .channelSums: return [("conv_bias", [.threadSplit])]
        }
    }
}

extension Tiled {
    /// The standard tuning's thresholds behind three boundaries, for draws that aim at them
    /// (`ProblemGenerator`): a padded image past `directBandFloats` floats is cut into bands
    /// (`directBands`); an im2col column block holds at most `columnBudget` floats, so its
    /// columns can pass `GEMMBlocking.nc` only for K < `columnBudget / nc` (`tiles`); the
    /// dual lowering needs its buffer `dualAdvantage` times smaller than col (`usesDual`).
    public static var directBandFloats: Int { ConvTuning.standard.directBandFloats }
    public static var columnBudget: Int { ConvTuning.standard.columnBudget }
    public static var dualAdvantage: Int { ConvTuning.standard.dualAdvantage }
}

extension Tiled {
    /// Every path of the convolution's plans and of the GEMM dispatcher, with the boundaries
    /// each can cross (from `ConvPath.allCases` and `GEMMPath.allCases`).
    public static var coverageTargets: [CoverageTarget] {
        let conv = ConvPath.allCases.flatMap { path in
            path.coverageKernels.map {
                CoverageTarget(kernel: $0.kernel, path: path.rawValue, boundaries: $0.boundaries)
            }
        }
        return conv
            + GEMMPath.allCases.map { CoverageTarget(kernel: "gemm", path: $0.rawValue, boundaries: $0.boundaries) }
            + [CoverageTarget(kernel: "linear_bias", path: "columnSums", boundaries: [.threadSplit])]
    }

    /// The path and boundaries of `direction` of `problem` in the tiled implementation with
    /// `threads` (0: every core), or nil for ops outside the convolution and GEMM plans.
    public static func coverage(of problem: Problem, _ direction: Direction, threads: Int) -> PlanCoverage? {
        switch problem {
        case .conv(let p):
            return TiledConv(p, tuning: .standard).coverage(direction, adjoint: false, threads: threads)
        case .convTranspose(let p):
            return TiledConv(adjointOf: p, tuning: .standard).coverage(direction, adjoint: true, threads: threads)
        case .matmul(let p): return matmulCoverage(p, direction, threads: threads)
        case .linear(let p): return linearCoverage(p, direction, threads: threads)
        default: return nil
        }
    }
}

extension TiledConv {
    /// `path(_:adjoint:)`'s plan, with the boundaries its run crosses for `threads`.
    func coverage(_ direction: Direction, adjoint: Bool, threads: Int) -> PlanCoverage? {
        let t = Tiled.resolveThreads(threads)
        let plan: ConvPlan, kernel: String
        switch direction {
        case .fwd, .bwdData:
            let forward = (direction == .fwd) != adjoint
            plan = forward ? forwardPlan : backwardDataPlan
            kernel = forward ? "conv_forward" : "conv_backward_data"
        case .bwdWeights: (plan, kernel) = (backwardWeightsPlan, "conv_backward_weights")
        case .bwdBias:
            // `convChannelSums`: min(channels, 4·threads) pieces.
            let channels = groups * (adjoint ? inChannels : outChannels)
            return PlanCoverage(
                kernel: "conv_bias", path: ConvPath.channelSums.rawValue,
                boundaries: t > 1 && channels > 1 ? [.threadSplit] : [])
        default: return nil
        }
        return PlanCoverage(
            kernel: kernel, path: plan.path.rawValue, boundaries: boundaries(plan, kernel: kernel, threads: t))
    }

    /// Whether `runItems(count, threads:)` runs its items on several threads at once.
    func itemsInParallel(_ count: Int, threads: Int) -> Bool {
        threads > 1 && count >= threads * tuning.itemsPerThread
    }

    /// The threads each item of `runItems(count, threads:)` gets inside.
    func innerThreads(_ count: Int, threads: Int) -> Int { itemsInParallel(count, threads: threads) ? 1 : threads }

    func boundaries(_ plan: ConvPlan, kernel: String, threads t: Int) -> Set<CoverageBoundary> {
        let p = outSpatial, k = columnRows, co = outChannels
        switch plan.path {
        case .empty, .channelSums: return []
        case .direct, .directWide: return directForwardBoundaries(plan.direct!, threads: t)
        case .channelLanes:
            guard let adjoint = plan.adjoint else { return channelLanesBoundaries(threads: t) }
            return adjoint.phases.reduce(into: Set()) { $0.formUnion($1.lowering.channelLanesBoundaries(threads: t)) }
        case .directPhases:
            return plan.adjoint!.phases.reduce(into: Set()) {
                // A phase writes through its own layout: image pairs only into a plain output.
                let strided = $1.output != $1.lowering.contiguousOutput
                $0.formUnion($1.lowering.directForwardBoundaries($1.plan, strided: strided, threads: t))
            }
        case .directWeights, .virtualGridWeights:
            let d = plan.direct!
            var b: Set<CoverageBoundary> = []
            let bands: Int
            if plan.path == .directWeights {
                bands = (outSize[1] + directWeightsBandRows(d) - 1) / directWeightsBandRows(d)
            } else if d.flattened {
                let step = max(1, tuning.directBandPixels / 16)
                bands = (d.vectors + step - 1) / step
            } else {
                let rows = max(1, min(outSize[1], tuning.directBandPixels / d.virtualWidth))
                bands = (outSize[1] + rows - 1) / rows
            }
            if bands > 1 { b.insert(.bandSplit) }
            // Pieces: min(groups · ⌈Co/4⌉, threads) channel blocks.
            if min(groups * ((co + 3) / 4), t) > 1 { b.insert(.threadSplit) }
            // 4 channels × 6 taps per tile; junk lanes on the virtual grid.
            if co % 4 != 0 || k % 6 != 0 || plan.path == .virtualGridWeights { b.insert(.edgeTiles) }
            return b
        case .panelWeights:
            // `backwardWeightsPanels`: blocks of whole output rows (or pixels) ≤ the block size.
            let most = max(1, min(GEMMBlocking.kc, tuning.panelWeightsBlock)), wo = outSize[2], ho = outSize[1]
            let blocks = wo <= most ? (ho + most / wo - 1) / (most / wo) : (p + most - 1) / most
            let panels = (k + GEMMBlocking.nr - 1) / GEMMBlocking.nr
            var b: Set<CoverageBoundary> = []
            if blocks > 1 { b.insert(.panelBlocks) }
            if min(groups * panels, t) > 1 { b.insert(.threadSplit) }
            if k % GEMMBlocking.nr != 0 || Self.directPanels(co).contains(where: { $0.valid < $0.rows }) {
                b.insert(.edgeTiles)
            }
            return b
        case .laneWeights:
            // `backwardWeightsLanes`: blocks of whole output rows; items (group, 32-channel
            // block, 12-tap tile).
            var b: Set<CoverageBoundary> = []
            if outSize[1] > laneWeightsBlockRows { b.insert(.panelBlocks) }
            if min(laneWeightsItems, t) > 1 { b.insert(.threadSplit) }
            if co % 32 != 0 || k % 12 != 0 { b.insert(.edgeTiles) }
            return b
        case .packedIm2col:
            let (slabRows, block) = packedTiles
            let items = batch * groups * ((p + block - 1) / block)
            let inner = innerThreads(items, threads: t)
            var b = prepackedBoundaries(m: co, n: block, kc: slabRows, threads: inner)
            if (k + slabRows - 1) / slabRows > 1 { b.insert(.kPastKc) }
            if itemsInParallel(items, threads: t) { b.insert(.threadSplit) }
            if p % block != 0 { b.insert(.edgeTiles) }
            return b
        case .packedCol2im:
            let (slabRows, block, _) = col2imTiles
            let inner = innerThreads(batch * groups, threads: t)
            var b = prepackedBoundaries(m: min(slabRows, k), n: block, kc: co, threads: inner)
            if k % slabRows != 0 { b.formUnion(prepackedBoundaries(m: k % slabRows, n: block, kc: co, threads: inner)) }
            if itemsInParallel(batch * groups, threads: t) { b.insert(.threadSplit) }
            if p % block != 0 { b.insert(.edgeTiles) }
            return b
        case .pointwise, .im2colCol2im, .im2colWeights, .dual:
            return gemmBoundaries(plan.path, kernel: kernel, threads: t)
        }
    }

    /// The direct forward's boundaries (`forwardDirect`): several bands, threads over
    /// (image, group) items or over a band's tiles, partial weight panels or junk lanes.
    func directForwardBoundaries(_ plan: DirectPlan, strided: Bool = false, threads t: Int) -> Set<CoverageBoundary> {
        var b: Set<CoverageBoundary> = []
        let wide = plan.wideRows > 0
        let unit = wide ? plan.wideVectors : 2
        let paired = !wide && !strided && pairsImages(plan)
        let bands = directBands(plan, unit: unit)
        if bands.ranges.count > 1 { b.insert(.bandSplit) }
        let items = wide ? batch * groups : (batch + (paired ? 1 : 0)) / (paired ? 2 : 1) * groups
        if itemsInParallel(items, threads: t) {
            b.insert(.threadSplit)
        } else if t > 1 {
            let perTile = paired ? 1 : unit
            if bands.ranges.contains(where: { ($0.v1 + perTile - 1) / perTile - $0.v0 / perTile > 1 }) {
                b.insert(.threadSplit)
            }
        }
        let junk = plan.flattened || plan.virtualWidth != outSize[2] || plan.vectors % unit != 0
        let partialRows =
            wide ? outChannels < plan.wideRows : Self.directPanels(outChannels).contains { $0.valid < $0.rows }
        if junk || partialRows { b.insert(.edgeTiles) }
        return b
    }

    /// `sgemmPrepacked(m:n:kc:)`'s boundaries: mc row blocks, column panels split over
    /// threads, partial tiles.
    func prepackedBoundaries(m: Int, n: Int, kc: Int, threads: Int) -> Set<CoverageBoundary> {
        var b: Set<CoverageBoundary> = []
        guard m > 0 && n > 0 else { return b }
        if m > GEMMBlocking.mc { b.insert(.mPastMc) }
        let panels = (n + GEMMBlocking.nr - 1) / GEMMBlocking.nr
        if threads > 1 && m * n * kc >= Tiled.sgemmParallelThreshold && min(panels, threads) > 1 {
            b.insert(.threadSplit)
        }
        if m % GEMMBlocking.mr != 0 || n % GEMMBlocking.nr != 0 { b.insert(.edgeTiles) }
        return b
    }

    /// The boundaries of the paths that call `Tiled.sgemm` per item (`runItems`): the
    /// union over the GEMM shapes they run for the plan `kernel`.
    func gemmBoundaries(_ path: ConvPath, kernel: String, threads t: Int) -> Set<CoverageBoundary> {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let (slabRows, block) = tiles
        var items = batch * groups
        var shapes: [(transA: Bool, transB: Bool, m: Int, n: Int, k: Int)] = []
        // Full slabs and blocks, and the partial last ones.
        func slabsAndBlocks(_ shape: (Int, Int) -> (Bool, Bool, Int, Int, Int)) {
            for rows in Set([min(slabRows, k), k % slabRows].filter { $0 > 0 }) {
                for columns in Set([min(block, p), p % block].filter { $0 > 0 }) {
                    let s = shape(rows, columns)
                    shapes.append((s.0, s.1, s.2, s.3, s.4))
                }
            }
        }
        switch (path, kernel) {
        case (.dual, "conv_forward"): shapes = [(false, false, dualRows, inS, ci)]
        case (.dual, "conv_backward_data"): shapes = [(true, false, ci, inS, dualRows)]
        case (.dual, _):
            items = reductionChunks(itemsPerChunk: groups).chunks * groups
            shapes = [(false, true, dualRows, ci, inS)]
        case (.pointwise, "conv_forward"): shapes = [(false, false, co, p, k)]
        case (.pointwise, "conv_backward_data"): shapes = [(true, false, k, p, co)]
        case (.im2colCol2im, _): slabsAndBlocks { rows, columns in (true, false, rows, columns, co) }
        default:
            // `backwardWeightsIm2col` (pointwise too): (chunk, group, slab) items, the
            // orientation whose C fills the 12 × 32 tile better.
            let slabs = (k + slabRows - 1) / slabRows
            items = reductionChunks(itemsPerChunk: groups * slabs).chunks * groups * slabs
            func fill(_ m: Int, _ n: Int) -> Double {
                Double(m * n) / Double(((m + 11) / 12 * 12) * ((n + 31) / 32 * 32))
            }
            let transposed: Bool
            switch tuning.weightGradientOrientation {
            case .direct: transposed = false
            case .transposed: transposed = true
            case .automatic: transposed = fill(slabRows, co) > fill(co, slabRows)
            }
            slabsAndBlocks { rows, columns in
                transposed ? (false, true, rows, co, columns) : (false, true, co, rows, columns)
            }
        }
        return gemmUnion(shapes, items: items, threads: t)
    }

    /// Union of `Tiled.sgemmCoverage` over `shapes`, each run with the inner threads of
    /// `runItems(items)`, plus the item split itself.
    func gemmUnion(
        _ shapes: [(transA: Bool, transB: Bool, m: Int, n: Int, k: Int)], items: Int, threads t: Int
    ) -> Set<CoverageBoundary> {
        var b: Set<CoverageBoundary> = itemsInParallel(items, threads: t) ? [.threadSplit] : []
        let inner = innerThreads(items, threads: t)
        for s in shapes {
            b.formUnion(
                Tiled.sgemmCoverage(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, threads: inner)
                    .boundaries)
        }
        return b
    }
}
