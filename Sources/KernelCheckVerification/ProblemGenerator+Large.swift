import KernelCheckCore
import KernelCheckProblems
import KernelCheckTiled

// Targeted draws: problems aimed at one tiled path and one blocking boundary, so that the
// random sweeps reach paths and thresholds that uniform draws almost never do (a direct
// forward needs ≥ 8 output channels per group and ≥ 80 % useful lanes; panel
// backward-weights ≥ 128 channels and taps; a band split a padded image past 2¹⁸ floats).
//
// A draw picks a target (path, boundary) uniformly from `Tiled.coverageTargets`, then tries
// shapes from that path's recipe until `Tiled.coverage` says the problem takes the path and
// crosses the boundary: the plan decides, not the recipe, so a recipe that drifts from the
// plan only costs attempts. A target the size class cannot reach (panel blocks in a small
// problem) falls back to a plain draw and stays a gap in the coverage table. Four pairs that
// no path recipe aims at have recipes of their own and a share of the medium and large
// draws (`ProblemGenerator+RarePairs.swift`).

extension GeneratorSize {
    /// The `large` class's limits: ≤ 128M MACs, tensors ≤ 2 Mi elements (release builds only).
    static let largeMaxMACs = 128_000_000.0
    static let largeMaxTensorElements = 1 << 21

    /// Share of conv, transposed conv, matmul and linear draws that are targeted.
    var targetedShare: Double { self == .small ? 0.3 : self == .medium ? 0.5 : 0.9 }

    /// Boundaries that only this class reaches: 60 % of its targeted draws aim at one of them
    /// (the large class exists for them; a uniform pick would spend most draws on paths that
    /// smaller classes already cover).
    var focus: Set<CoverageBoundary> { self == .large ? [.bandSplit, .panelBlocks] : [] }

    /// Largest spatial size of the `large` class per rank.
    static func largeSpatialCap(rank: Int) -> Int { rank == 1 ? 4096 : rank == 2 ? 320 : 32 }
}

extension ProblemGenerator {
    /// Attempts per targeted draw before falling back to a plain one (each attempt parses a
    /// problem and plans one direction: cheap, but a debug-build test suite draws thousands).
    static let targetedAttempts = 24

    /// With probability `size.targetedShare`, a problem of `family` aimed at a random target
    /// path × boundary (nil: draw a plain one).
    static func targetedDraw(_ family: OpFamily, rng: inout SeededRNG, size: GeneratorSize) -> Problem? {
        guard [.conv, .convTranspose, .matmul, .linear].contains(family), rng.chance(size.targetedShare) else {
            return nil
        }
        if let problem = rarePairDraw(family, rng: rng, size: size) { return problem }
        let gemm = family == .matmul || family == .linear
        var kernels: Set<String> =
            gemm ? ["gemm"] : ["conv_forward", "conv_backward_data", "conv_backward_weights", "conv_bias"]
        if family == .linear { kernels.insert("linear_bias") }
        // Not the empty paths: plain draws reach them on purpose (zero-size dimensions), and
        // more empty problems would only dilute the sweeps.
        let targets = Tiled.coverageTargets.filter { kernels.contains($0.kernel) && $0.path != "empty" }
        guard !targets.isEmpty else { return nil }
        let focused = targets.filter { !size.focus.isDisjoint(with: $0.boundaries) }
        let target: CoverageTarget, boundary: CoverageBoundary?
        if !focused.isEmpty && rng.chance(0.6) {
            target = rng.pick(focused)
            boundary = rng.pick(target.boundaries.filter { size.focus.contains($0) })
        } else {
            target = rng.pick(targets)
            boundary = target.boundaries.isEmpty || rng.chance(0.15) ? nil : rng.pick(target.boundaries)
        }
        // A boundary out of the size's reach still leaves a draw on the path.
        return targeted(family, target: target, boundary: boundary, rng: &rng, size: size)
            ?? (boundary == nil ? nil : targeted(family, target: target, boundary: nil, rng: &rng, size: size))
    }

    /// A problem of `family` that fits `size` and takes `target`'s path in some direction,
    /// crossing `boundary` there (on every core), or nil when none was found.
    public static func targeted(
        _ family: OpFamily, target: CoverageTarget, boundary: CoverageBoundary?, rng: inout SeededRNG,
        size: GeneratorSize, threads: Int = 0
    ) -> Problem? {
        for attempt in 0..<targetedAttempts {
            // Later attempts grow the shapes, toward the size's limit.
            let grow = Double(attempt) / Double(targetedAttempts)
            guard
                let descriptor = recipe(family, target: target, boundary: boundary, grow: grow, rng: &rng, size: size),
                let problem = try? Problem(descriptor), size.admits(problem)
            else { continue }
            for direction in directions(of: family, reaching: target.kernel)
            where problem.directions.contains(direction) {
                guard let c = Tiled.coverage(of: problem, direction, threads: threads),
                    c.kernel == target.kernel, c.path == target.path
                else { continue }
                if boundary.map({ c.boundaries.contains($0) }) ?? true { return problem }
            }
        }
        return nil
    }

    /// The directions of `family` that run the plan `kernel` (a transposed convolution's
    /// forward runs its adjoint's backward-data plan and vice versa).
    static func directions(of family: OpFamily, reaching kernel: String) -> [Direction] {
        let transposed = family == .convTranspose
        switch kernel {
        case "conv_forward": return [transposed ? .bwdData : .fwd]
        case "conv_backward_data": return [transposed ? .fwd : .bwdData]
        case "conv_backward_weights": return [.bwdWeights]
        case "conv_bias", "linear_bias": return [.bwdBias]
        default: return [.fwd, .bwdData, .bwdWeights]
        }
    }

    /// A size in `1...cap`, log-uniform, scaled up by `grow` (0: anywhere, 1: the top half
    /// of the logarithmic range).
    static func logSize(_ cap: Int, grow: Double, rng: inout SeededRNG) -> Int {
        guard cap > 1 else { return max(cap, 1) }
        let top = SeededRNG.portableLog(Double(cap))
        let u = grow / 2 + (1 - grow / 2) * rng.nextUnitDouble()
        return min(cap, max(1, Int((u * top).expValue.rounded())))
    }

    /// One draw of `target`'s recipe (a rare pair's own recipe when `boundary` makes one, in
    /// the classes that aim at rare pairs).
    static func recipe(
        _ family: OpFamily, target: CoverageTarget, boundary: CoverageBoundary?, grow: Double,
        rng: inout SeededRNG, size: GeneratorSize
    ) -> (any ProblemDescriptor)? {
        if target.kernel == "gemm" || target.kernel == "linear_bias" {
            return gemmRecipe(family, path: target.path, grow: grow, rng: &rng, size: size)
        }
        guard let path = ConvPath(rawValue: target.path) else { return nil }
        let shape: ConvShape
        // The small class keeps the path recipes: no rare pair fits it.
        if let boundary, size.rarePairShare > 0, rarePairs.contains(where: { $0 == (target.kernel, path, boundary) }) {
            guard let rare = rareShape(kernel: target.kernel, path: path, boundary: boundary, rng: &rng, size: size)
            else { return nil }
            shape = rare
        } else {
            shape = convRecipe(path, grow: grow, rng: &rng, size: size)
        }
        return family == .convTranspose ? shape.transposed : shape.conv
    }

    /// A conv (or its adjoint transposed conv) geometry.
    struct ConvShape {
        var n = 1, ci = 1, co = 1, groups = 1
        var input: [Int] = [8], kernel: [Int] = [3], stride: [Int] = [1], dilation: [Int] = [1]
        var padBegin: [Int] = [1], padEnd: [Int] = [1]
        var bias = true

        /// The convolution, when valid.
        var conv: ConvProblem? {
            let p = ConvProblem(
                batch: n, inChannels: ci, outChannels: co, groups: groups, inputSize: input, kernel: kernel,
                stride: stride, dilation: dilation, padding: .explicit(begin: padBegin, end: padEnd), hasBias: bias)
            return (try? Problem(p)) == nil ? nil : p
        }

        /// The transposed convolution whose adjoint is `conv` (input = conv's output; the
        /// output padding restores conv's input size), when valid.
        var transposed: ConvTransposeProblem? {
            guard let c = conv else { return nil }
            var op: [Int] = []
            for i in input.indices {
                let span: Int = input[i] + padBegin[i] + padEnd[i] - dilation[i] * (kernel[i] - 1) - 1
                op.append(span % stride[i])
            }
            let p = ConvTransposeProblem(
                batch: n, inChannels: co, outChannels: ci, groups: groups, inputSize: c.outputSize, kernel: kernel,
                stride: stride, dilation: dilation, padding: .explicit(begin: padBegin, end: padEnd),
                outputPadding: op, hasBias: bias)
            return (try? Problem(p)) == nil ? nil : p
        }
    }

    static func spatialCap(_ size: GeneratorSize, rank: Int) -> Int {
        size == .large ? GeneratorSize.largeSpatialCap(rank: rank) : size.spatialCap(rank: rank)
    }

    /// Shapes for one convolution path; `grow` pushes sizes toward the size's limits. The
    /// channel counts reach past the GEMM blocks (kc, mc, nc) in the larger classes.
    static func convRecipe(_ path: ConvPath, grow: Double, rng: inout SeededRNG, size: GeneratorSize) -> ConvShape {
        var s = ConvShape()
        let rank: Int
        switch path {
        case .packedIm2col, .packedCol2im, .im2colWeights: rank = rng.pick([1, 2, 3])
        case .panelWeights, .im2colCol2im: rank = 2
        default: rank = rng.pick([1, 2, 2])
        }
        let cap = spatialCap(size, rank: rank)
        let channels = size == .small ? 64 : size == .medium ? 1024 : 4096
        func channelCount() -> Int { logSize(channels, grow: grow, rng: &rng) }
        s.kernel = (0..<rank).map { _ in rng.pick([1, 2, 3, 3, 4, 5]) }
        s.stride = (0..<rank).map { _ in rng.weighted([(1, 6), (2, 3), (3, 1)]) }
        s.dilation = (0..<rank).map { _ in rng.weighted([(1, 8), (2, 2), (8, 1)]) }
        s.input = (0..<rank).map { _ in max(1, logSize(cap, grow: grow, rng: &rng)) }
        s.n = rng.weighted([(1, 4), (2, 3), (3, 1), (5, 1)])
        switch path {
        case .empty:
            s.n = 0
        case .dual:
            // Few output channels, many input channels (a dual buffer 4× smaller than col).
            s.co = rng.nextInt(in: 1...3)
            s.ci = max(4 * s.co, channelCount())
            s.kernel = (0..<rank).map { _ in rng.pick([2, 3, 5, 7]) }
        case .direct, .directWeights, .virtualGridWeights, .channelSums:
            s.co = rng.pick([8, 9, 12, 16, 20, 24, 32]) * (size == .small ? 1 : rng.pick([1, 2, 4]))
            s.ci = rng.nextInt(in: 1...s.co)
            // Multiples of 32 channels with 2 to 7 undilated taps a row of stride 1 or 2 would
            // take the channel lanes where 16-lane vectors run: Co/2 + 4 channels (20, 36, 52,
            // 68) fill too few of their 32-channel blocks for them.
            let w = rank - 1
            if path == .direct && s.co % 32 == 0 && (2...7).contains(s.kernel[w]) && s.stride[w] <= 2
                && s.dilation[w] == 1
            {
                s.co = s.co / 2 + 4
            }
            if path == .directWeights {
                s.input[rank - 1] = 16 * rng.nextInt(in: 1...max(1, cap / 16))
                s.stride[rank - 1] = 1
            }
        case .channelLanes:
            // 32-channel blocks filled to ≥ 7/8; rows of 2 to 7 taps, width stride 1 or 2,
            // dilation 1 (the begin padding below stays under a row's taps).
            s.co = rng.pick([32, 64, 60, 96]) * (size == .small ? 1 : rng.pick([1, 2]))
            s.ci = rng.nextInt(in: 1...(size == .small ? 12 : 64))
            s.kernel[rank - 1] = rng.pick([2, 3, 4, 5, 7])
            s.stride[rank - 1] = rng.pick([1, 1, 2])
            s.dilation[rank - 1] = 1
        case .laneWeights:
            // ≥ 32 output channels filling ≥ 7/8 of their 32-lane blocks, at least 128 taps,
            // and 16·Co·K lane accumulators within 2²⁰ (else the panel or im2col path).
            s.co = rng.pick([32, 64, 60, 96])
            let taps = s.kernel.reduce(1, *)
            s.ci = (128 + taps - 1) / taps + rng.nextInt(in: 0...8)
        case .directWide:
            s.co = rng.nextInt(in: 1...4)
            s.ci = rng.nextInt(in: 1...(4 * s.co - 1))
            s.stride = Array(repeating: 1, count: rank)
        case .pointwise:
            s.kernel = Array(repeating: 1, count: rank)
            s.stride = Array(repeating: 1, count: rank)
            s.ci = channelCount()
            s.co = channelCount()
        case .packedIm2col, .packedCol2im, .im2colWeights:
            s.co = rank == 3 ? channelCount() : rng.pick([5, 6, 7])
            s.ci = channelCount()
        case .directPhases:
            // The phases' output channels are the convolution's input channels; neither the
            // convolution nor a phase may take the dual lowering (Co between Ci/4 and 4·Ci).
            s.ci = rng.pick([1, 2, 3, 4, 8, 12, 16, 24])
            s.co = min(logSize(size == .small ? 16 : 128, grow: grow, rng: &rng), 4 * s.ci - 1)
            s.co = max(s.co, s.ci / 4 + 1)
            s.kernel = (0..<rank).map { _ in rng.pick([2, 3, 4, 5]) }
            s.stride = (0..<rank).map { _ in rng.pick([1, 2]) }
            s.dilation = Array(repeating: 1, count: rank)
        case .im2colCol2im:
            // Co past one K block, and not direct (k1 s2 skips width phases).
            s.co = GEMMBlocking.kc + rng.nextInt(in: 1...16)
            s.ci = logSize(size == .small ? 2 : 256, grow: grow, rng: &rng)
            s.kernel = [1, 1]
            s.stride = [1, 2]
            s.input = [1, logSize(size == .small ? 4 : 8192, grow: grow, rng: &rng)]
        case .panelWeights:
            // Co and K ≥ 128 and 16·Co·K lane accumulators past 2²⁰, on a small grid whose
            // tiles are ≥ 80 % pixels (2 × 13 flattened: 26 of 32 lanes); rows of 40 need
            // three gathers of up to 16 pixels per row run.
            s.co = rng.pick([128, 129, 136, 192, 256])
            s.kernel = [3, 3]
            s.stride = [1, 1]
            s.dilation = [1, 1]
            s.ci = (65_536 / s.co + 9) / 9 + rng.nextInt(in: 0...4)
            let grids = [[2, 13], [2, 40], [4, 16], [3, 16], [16, 16], [12, 32], [24, 24], [32, 32], [20, 48]]
            s.input = grids[min(grids.count - 1, Int(grow * Double(grids.count)) + rng.nextInt(in: 0...2))]
            s.n = rng.nextInt(in: 1...2)
        }
        // A third of the time the channel counts above become per-group counts of 2 or 3
        // groups: the plan judges a path by the channels of one group, so the path is the
        // same, and each group's offsets into the weights and channels get exercised (a
        // dropped group offset is invisible with one group).
        if path != .empty && rng.chance(1.0 / 3) {
            s.groups = rng.pick([2, 3])
            s.ci *= s.groups
            s.co *= s.groups
        }
        // Not directWide: its wide tiles need rows of a multiple of 6–12 vectors or the
        // flattened grid, which whole-vector rows defeat.
        let directFamily: Set<ConvPath> = [
            .direct, .directPhases, .directWeights, .virtualGridWeights, .channelLanes, .laneWeights,
        ]
        if directFamily.contains(path) {
            if path != .channelLanes { s.kernel = s.kernel.map { min($0, 5) } }
            // Most of the time, output rows (or phase rows) close to whole 32-pixel tiles:
            // the direct paths need ≥ 80 % of the tile lanes to be pixels.
            if path == .channelLanes || rng.chance(0.7) {
                let tiles = size == .small ? rng.nextInt(in: 1...2) : logSize(max(1, cap / 16), grow: grow, rng: &rng)
                s.input[rank - 1] = s.stride[rank - 1] * max(1, 16 * tiles - rng.nextInt(in: 0...3))
            }
        }
        s.padBegin = (0..<rank).map { i in ((s.kernel[i] - 1) * s.dilation[i] + 1) / 2 }
        s.padEnd = (0..<rank).map { i in (s.kernel[i] - 1) * s.dilation[i] - s.padBegin[i] }
        if path == .pointwise { s.padBegin = s.padBegin.map { _ in 0 }; s.padEnd = s.padBegin }
        // The dilated kernel must fit the padded input.
        for i in 0..<rank {
            let extent = (s.kernel[i] - 1) * s.dilation[i] + 1
            s.input[i] = max(s.input[i], extent - s.padBegin[i] - s.padEnd[i])
        }
        s.bias = rng.chance(0.5) || path == .channelSums
        return s
    }

    /// Matmul or linear shapes for one GEMM path.
    static func gemmRecipe(
        _ family: OpFamily, path: String, grow: Double, rng: inout SeededRNG, size: GeneratorSize
    ) -> (any ProblemDescriptor)? {
        let limit = size == .small ? 128 : size == .medium ? 1024 : 4096
        var m = logSize(limit, grow: grow, rng: &rng), n = logSize(limit, grow: grow, rng: &rng)
        var k = logSize(limit, grow: grow, rng: &rng)
        let ta = rng.chance(0.5)
        var tb = rng.chance(0.5)
        switch GEMMPath(rawValue: path) {
        case .empty?: if rng.chance(0.5) { k = 0 } else { m = 0 }
        case .inPlaceB?: tb = false; m = min(m, Tiled.inPlaceBMaxRows)
        case .packedB?: if rng.chance(0.5) { tb = true } else { m = max(m, Tiled.inPlaceBMaxRows + 1) }
        case .transposedC?: n = rng.nextInt(in: 1...(GEMMBlocking.nr - 1)); m = max(m, 2 * GEMMBlocking.nr)
        case .sharedB?:
            // Rows ≥ 4·mc, columns ≥ 16·nr; sometimes past one K block or one N block.
            m = 4 * GEMMBlocking.mc + rng.nextInt(in: 0...GEMMBlocking.mc)
            n = 16 * GEMMBlocking.nr + rng.nextInt(in: 0...(8 * GEMMBlocking.nr))
            k = rng.nextInt(in: 2...8)
            if rng.chance(0.3) { k = GEMMBlocking.kc + rng.nextInt(in: 1...64) }
            if rng.chance(0.3) { n = GEMMBlocking.nc + rng.nextInt(in: 1...256) }
        case nil: break
        }
        if family == .linear {
            // y = x·Wᵀ: rows = m, in = k, out = n (forward); the gradients run the other shapes.
            let text = "linear x=\(m)x\(k) out=\(n) bias=\(rng.chance(0.5) ? 1 : 0)"
            guard case .linear(let p)? = try? Problem.parse(text) else { return nil }
            return p
        }
        let batch = rng.weighted([("", 4), ("2x", 1)])
        let a = ta ? "\(batch)\(k)x\(m)" : "\(batch)\(m)x\(k)", b = tb ? "\(batch)\(n)x\(k)" : "\(batch)\(k)x\(n)"
        guard case .matmul(let p)? = try? Problem.parse("matmul a=\(a) b=\(b) ta=\(ta ? 1 : 0) tb=\(tb ? 1 : 0)") else {
            return nil
        }
        return p
    }
}

extension Double {
    /// e^x by its Taylor series in plain IEEE arithmetic: the same bits on every platform
    /// (like `SeededRNG.portableLog`), so a seed draws the same sizes everywhere. Used for
    /// 0 ≤ x ≤ 9, where 60 terms are exact to rounding.
    fileprivate var expValue: Double {
        var result = 1.0, term = 1.0
        for i in 1..<60 {
            term *= self / Double(i)
            result += term
        }
        return result
    }
}
