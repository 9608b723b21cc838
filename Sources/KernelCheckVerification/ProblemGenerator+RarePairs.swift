import KernelCheckCore
import KernelCheckProblems
import KernelCheckTiled

// Rare pairs: path × boundary pairs that the paths' own recipes (`convRecipe`) almost never
// produce, because the boundary needs a combination those recipes do not aim at:
//
// - dual forward × M past mc and dual backward-data × K past kc: the dual buffer's rows
//   Co·∏k are the forward's M and the backward-data's K, so both need Co·∏k past the
//   block while Ci stays `dualAdvantage` times Co (the dual recipe's Co ≤ 3 passes mc only
//   with 7 × 7 taps, and kc never);
// - dual forward × N past nc: the forward's columns are the input's positions, split over
//   the threads, so each thread's share must pass nc: an image larger than the dual
//   recipe's spatial draws reach;
// - directWide × band split: at most 4 output channels, so at most 4·Co − 1 input channels
//   (more would take the dual lowering), on a padded image past the band budget: a large
//   image of few channels;
// - im2colCol2im × N past nc: Co past kc (else packedCol2im) and a column block past nc,
//   which needs K < `columnBudget / nc` and more than nc output positions.
//
// Each has a recipe of its own, sized from the machine's blocking and the tuning's
// thresholds at run time. As with every targeted draw, the plan decides: the draw is kept
// only when `Tiled.coverage` says it takes the path and crosses the boundary on this
// machine's threads.

extension GeneratorSize {
    /// Share of targeted draws redirected to a rare pair (decided from a stream of its own,
    /// so the other draws stay what they were). The small class reaches none of them.
    var rarePairShare: Double { self == .small ? 0 : self == .medium ? 0.2 : 0.35 }
}

extension ProblemGenerator {
    /// The rare pairs (plan, path, boundary), each with its recipe (`rareShape`).
    static let rarePairs: [(kernel: String, path: ConvPath, boundary: CoverageBoundary)] = [
        ("conv_forward", .dual, .mPastMc),
        ("conv_backward_data", .dual, .kPastKc),
        ("conv_forward", .dual, .nPastNc),
        ("conv_forward", .directWide, .bandSplit),
        ("conv_backward_data", .im2colCol2im, .nPastNc),
    ]

    /// With probability `size.rarePairShare`, a problem of `family` aimed at a random rare
    /// pair, drawn from a stream seeded from a copy of `rng` (`rng` itself is not advanced).
    /// Nil when not chosen, or when the pair is out of the size's reach.
    static func rarePairDraw(_ family: OpFamily, rng: SeededRNG, size: GeneratorSize) -> Problem? {
        guard family == .conv || family == .convTranspose, size.rarePairShare > 0 else { return nil }
        var copy = rng
        var side = SeededRNG(seed: copy.next(), stream: "rare-pairs")
        guard side.chance(size.rarePairShare) else { return nil }
        let pair = side.pick(rarePairs)
        guard
            let target = Tiled.coverageTargets.first(where: {
                $0.kernel == pair.kernel && $0.path == pair.path.rawValue
            })
        else { return nil }
        return targeted(family, target: target, boundary: pair.boundary, rng: &side, size: size)
    }

    /// One draw of the recipe of the rare pair (`kernel`, `path`, `boundary`), or nil when it
    /// is not a rare pair or cannot fit `size`.
    static func rareShape(
        kernel: String, path: ConvPath, boundary: CoverageBoundary, rng: inout SeededRNG, size: GeneratorSize
    ) -> ConvShape? {
        guard rarePairs.contains(where: { $0 == (kernel, path, boundary) }) else { return nil }
        switch path {
        case .dual:
            return boundary == .nPastNc ? dualColumnsShape(rng: &rng, size: size) : dualRowsShape(rng: &rng, size: size)
        case .directWide: return wideBandShape(rng: &rng, size: size)
        case .im2colCol2im: return wideColumnBlockShape(rng: &rng, size: size)
        default: return nil
        }
    }

    /// The dual lowering with Co·∏k = kc + 1 … kc + 3·∏k rows (so past kc and mc): 5 × 5 or
    /// 7 × 7 taps, stride 1 and same padding (P = the input's positions), Ci ≥
    /// `dualAdvantage`·Co, on at most as many pixels as the size's multiply-adds allow.
    static func dualRowsShape(rng: inout SeededRNG, size: GeneratorSize) -> ConvShape? {
        var s = ConvShape()
        s.kernel = (0..<2).map { _ in rng.pick([5, 7]) }
        let taps = s.kernel.reduce(1, *)
        s.co = GEMMBlocking.kc / taps + 1 + rng.nextInt(in: 0...2)
        s.ci = Tiled.dualAdvantage * s.co + rng.nextInt(in: 0...s.co)
        s.n = rng.nextInt(in: 1...2)
        let pixels = Int(size.maxMACs) / (s.n * s.co * s.ci * taps)
        let side = min(16, Int(Double(pixels).squareRoot()))
        guard side >= 2 else { return nil }
        // At least 6 × 6 pixels (P ≥ nr): a narrower forward C would be computed transposed.
        s.input = (0..<2).map { _ in rng.nextInt(in: min(6, side)...side) }
        s.stride = [1, 1]
        s.dilation = [1, 1]
        s.padBegin = s.kernel.map { ($0 - 1) / 2 }
        s.padEnd = s.padBegin
        s.bias = rng.chance(0.5)
        return s
    }

    /// The dual lowering (Co of 1–3, Ci ≥ `dualAdvantage`·Co) on an image of more than
    /// threads·nc positions (up to twice that), stride 1 and same padding, so that each
    /// thread's share of the forward's columns passes nc.
    static func dualColumnsShape(rng: inout SeededRNG, size: GeneratorSize) -> ConvShape? {
        let threads = Tiled.resolveThreads(0)
        var s = ConvShape()
        s.co = rng.nextInt(in: 1...3)
        s.ci = Tiled.dualAdvantage * s.co + rng.nextInt(in: 0...s.co)
        s.kernel = (0..<2).map { _ in rng.pick([2, 3, 5]) }
        let fewest = threads * GEMMBlocking.nc + 1
        let positions = rng.nextInt(in: fewest...(2 * fewest))
        let width = rng.nextInt(in: 48...160)
        s.input = [(positions + width - 1) / width, width]
        let taps = s.kernel.reduce(1, *), pixels = s.input.reduce(1, *)
        guard s.ci * pixels <= size.maxTensorElements,
            Double(s.co * s.ci * taps * pixels) <= size.maxMACs
        else { return nil }
        s.stride = [1, 1]
        s.dilation = [1, 1]
        s.padBegin = s.kernel.map { ($0 - 1) / 2 }
        s.padEnd = s.kernel.map { $0 - 1 - ($0 - 1) / 2 }
        s.bias = rng.chance(0.5)
        return s
    }

    /// The direct forward with 1–4 output channels (wide tiles) and at most
    /// `dualAdvantage`·Co − 1 input channels, on an image whose padded copy is 2–50 % past
    /// the band budget (`Tiled.directBandFloats`); widths off whole vectors, so the
    /// flattened grid (which wide tiles accept at any width) wins.
    static func wideBandShape(rng: inout SeededRNG, size: GeneratorSize) -> ConvShape? {
        let cap = spatialCap(size, rank: 2)
        let floats = Double(Tiled.directBandFloats) * (1.02 + 0.48 * rng.nextUnitDouble())
        // Enough channels that the image fits the spatial cap.
        let fewest = Int((floats / Double(cap * cap)).rounded(.up))
        let lowestCo = max(1, (fewest + Tiled.dualAdvantage) / Tiled.dualAdvantage)
        guard lowestCo <= 4 else { return nil }
        var s = ConvShape()
        s.co = rng.nextInt(in: lowestCo...4)
        s.ci = rng.nextInt(in: max(1, fewest)...(Tiled.dualAdvantage * s.co - 1))
        s.kernel = (0..<2).map { _ in rng.pick([2, 3, 3, 5]) }
        s.stride = [1, 1]
        s.dilation = [1, 1]
        let pixels = floats / Double(s.ci)
        var width = min(cap, Int(pixels.squareRoot() * (0.8 + 0.45 * rng.nextUnitDouble())))
        if width % 16 == 0 { width -= 1 }
        let height = Int((pixels / Double(width)).rounded(.up))
        guard width >= 16, height <= cap else { return nil }
        s.input = [height, width]
        s.padBegin = s.kernel.map { $0 / 2 }
        s.padEnd = s.kernel.map { ($0 - 1) / 2 }
        s.n = 1
        s.bias = rng.chance(0.5)
        guard Double(s.n * s.co * s.ci * s.kernel.reduce(1, *)) * pixels <= size.maxMACs else { return nil }
        return s
    }

    /// Backward-data through SGEMM slabs with a column block past nc: Co = kc + 1 … kc + 16
    /// (past one K block, so not packedCol2im), a 1 × 1 kernel of width stride 2 (it skips
    /// width phases, so not direct), K = Ci below `columnBudget / nc` so that one block takes
    /// all nc + 1 … nc + 4·nr output positions. Whether the threads then split the block's
    /// columns (`GEMMSplit`) is left to the plan check.
    static func wideColumnBlockShape(rng: inout SeededRNG, size: GeneratorSize) -> ConvShape? {
        let nc = GEMMBlocking.nc, fewestPositions = nc + 1
        let widestK = (Tiled.columnBudget - 1) / fewestPositions
        guard widestK >= 1 else { return nil }
        var s = ConvShape()
        s.co = GEMMBlocking.kc + rng.nextInt(in: 1...16)
        s.ci = rng.nextInt(in: 1...widestK)
        let most = min(nc + 4 * GEMMBlocking.nr, Tiled.columnBudget / s.ci, size.maxTensorElements / s.co)
        guard most >= fewestPositions else { return nil }
        let positions = rng.nextInt(in: fewestPositions...most)
        s.kernel = [1, 1]
        s.stride = [1, 2]
        s.dilation = [1, 1]
        s.input = [1, 2 * positions - rng.nextInt(in: 0...1)]
        s.padBegin = [0, 0]
        s.padEnd = [0, 0]
        s.n = 1
        s.bias = rng.chance(0.5)
        return s
    }
}
