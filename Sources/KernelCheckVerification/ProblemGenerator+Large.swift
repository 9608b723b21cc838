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
// problem) falls back to a plain draw and stays a gap in the coverage table.

extension GeneratorSize {
    /// The `large` class's limits: ≤ 64M MACs, tensors ≤ 2 Mi elements (release builds only).
    static let largeMaxMACs = 64_000_000.0
    static let largeMaxTensorElements = 1 << 21

    /// Share of conv, transposed conv, matmul and linear draws that are targeted.
    var targetedShare: Double { self == .small ? 0.25 : 0.4 }

    /// Largest spatial size of the `large` class per rank.
    static func largeSpatialCap(rank: Int) -> Int { rank == 1 ? 4096 : rank == 2 ? 320 : 32 }
}

extension ProblemGenerator {
    /// Attempts per targeted draw before falling back to a plain one.
    static let targetedAttempts = 60

    /// With probability `size.targetedShare`, a problem of `family` aimed at a random target
    /// path × boundary (nil: draw a plain one).
    static func targetedDraw(_ family: OpFamily, rng: inout SeededRNG, size: GeneratorSize) -> Problem? {
        guard [.conv, .convTranspose, .matmul, .linear].contains(family), rng.chance(size.targetedShare) else {
            return nil
        }
        let gemm = family == .matmul || family == .linear
        var kernels: Set<String> =
            gemm ? ["gemm"] : ["conv_forward", "conv_backward_data", "conv_backward_weights", "conv_bias"]
        if family == .linear { kernels.insert("linear_bias") }
        let targets = Tiled.coverageTargets.filter { kernels.contains($0.kernel) }
        guard !targets.isEmpty else { return nil }
        let target = rng.pick(targets)
        let boundary: CoverageBoundary? =
            target.boundaries.isEmpty || rng.chance(0.25) ? nil : rng.pick(target.boundaries)
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
            guard let descriptor = recipe(family, target: target, grow: grow, rng: &rng, size: size),
                let problem = try? Problem(descriptor), size.admits(problem)
            else { continue }
            for direction in problem.directions {
                guard let c = Tiled.coverage(of: problem, direction, threads: threads),
                    c.kernel == target.kernel, c.path == target.path
                else { continue }
                if boundary.map({ c.boundaries.contains($0) }) ?? true { return problem }
            }
        }
        return nil
    }

    /// A size in `1...cap`, log-uniform, scaled up by `grow` (0: anywhere, 1: the top half
    /// of the logarithmic range).
    static func logSize(_ cap: Int, grow: Double, rng: inout SeededRNG) -> Int {
        guard cap > 1 else { return max(cap, 1) }
        let top = SeededRNG.portableLog(Double(cap))
        let u = grow / 2 + (1 - grow / 2) * rng.nextUnitDouble()
        return min(cap, max(1, Int((u * top).expValue.rounded())))
    }

    /// One draw of `target`'s recipe.
    static func recipe(
        _ family: OpFamily, target: CoverageTarget, grow: Double, rng: inout SeededRNG, size: GeneratorSize
    ) -> (any ProblemDescriptor)? {
        if target.kernel == "gemm" || target.kernel == "linear_bias" {
            return gemmRecipe(family, path: target.path, grow: grow, rng: &rng, size: size)
        }
        guard let path = ConvPath(rawValue: target.path) else { return nil }
        let shape = convRecipe(path, grow: grow, rng: &rng, size: size)
        return family == .convTranspose ? shape.transposed : shape.conv
    }

    /// A conv (or its adjoint transposed conv) geometry, as problem strings.
    struct ConvShape {
        var n = 1, ci = 1, co = 1, groups = 1
        var input: [Int] = [8], kernel: [Int] = [3], stride: [Int] = [1], dilation: [Int] = [1]
        var padBegin: [Int] = [1], padEnd: [Int] = [1]
        var bias = true

        static func join(_ a: [Int]) -> String { a.map(String.init).joined(separator: "x") }

        /// `k=… s=… d=… p=…:…`, shared by both ops.
        var geometryText: String {
            let k = Self.join(kernel), s = Self.join(stride), d = Self.join(dilation)
            let p = Self.join(padBegin) + ":" + Self.join(padEnd)
            return "k=\(k) s=\(s) d=\(d) p=\(p)"
        }

        var convText: String {
            let head = "conv\(input.count)d n=\(n) ic=\(ci) oc=\(co) g=\(groups) in=\(Self.join(input))"
            return head + " " + geometryText + " bias=\(bias ? 1 : 0)"
        }

        var conv: ConvProblem? {
            guard case .conv(let p)? = try? Problem.parse(convText) else { return nil }
            return p
        }

        /// The transposed convolution whose adjoint is `conv` (input = conv's output; the
        /// output padding restores conv's input size).
        var transposed: ConvTransposeProblem? {
            guard let c = conv else { return nil }
            var op: [Int] = []
            for i in input.indices {
                let span: Int = input[i] + padBegin[i] + padEnd[i] - dilation[i] * (kernel[i] - 1) - 1
                op.append(span % stride[i])
            }
            let head = "convt\(input.count)d n=\(n) ic=\(co) oc=\(ci) g=\(groups) in=\(Self.join(c.outputSize))"
            let text = head + " " + geometryText + " op=\(Self.join(op)) bias=\(bias ? 1 : 0)"
            guard case .convTranspose(let p)? = try? Problem.parse(text) else { return nil }
            return p
        }
    }

    static func spatialCap(_ size: GeneratorSize, rank: Int) -> Int {
        size == .large ? GeneratorSize.largeSpatialCap(rank: rank) : size.spatialCap(rank: rank)
    }

    /// Shapes for one convolution path; `grow` pushes sizes toward the size's limits.
    static func convRecipe(_ path: ConvPath, grow: Double, rng: inout SeededRNG, size: GeneratorSize) -> ConvShape {
        var s = ConvShape()
        let rank = path == .packedIm2col || path == .packedCol2im || path == .im2colWeights ? rng.pick([1, 2, 3]) : 2
        let cap = spatialCap(size, rank: rank)
        let big = size == .small ? 1 : 4
        s.kernel = (0..<rank).map { _ in rng.pick([1, 2, 3, 3, 4, 5]) }
        s.stride = (0..<rank).map { _ in rng.weighted([(1, 6), (2, 3), (3, 1)]) }
        s.dilation = (0..<rank).map { _ in rng.weighted([(1, 8), (2, 2), (8, 1)]) }
        s.input = (0..<rank).map { _ in max(1, logSize(cap, grow: grow, rng: &rng)) }
        s.n = rng.weighted([(1, 4), (2, 3), (3, 1)])
        switch path {
        case .empty:
            s.n = 0
        case .dual:
            s.co = rng.nextInt(in: 1...3)
            s.ci = s.co * rng.nextInt(in: 8...24) * big
        case .direct, .directWeights, .virtualGridWeights, .channelSums:
            s.co = rng.pick([8, 9, 12, 16, 20, 24, 32]) * (size == .small ? 1 : rng.pick([1, 2, 4]))
            s.ci = rng.nextInt(in: 1...s.co)
            if path == .directWeights {
                s.input[1] = 16 * rng.nextInt(in: 1...max(1, cap / 16))
                s.stride = [rng.pick([1, 2]), 1]
            }
        case .directWide:
            s.co = rng.nextInt(in: 1...4)
            s.ci = rng.nextInt(in: 1...(4 * s.co - 1))
            s.stride = [1, 1]
        case .pointwise:
            s.kernel = Array(repeating: 1, count: rank)
            s.stride = Array(repeating: 1, count: rank)
            s.ci = logSize(64 * big, grow: grow, rng: &rng)
            s.co = logSize(64 * big, grow: grow, rng: &rng)
        case .packedIm2col, .packedCol2im, .im2colWeights:
            s.co = rank == 3 ? logSize(32 * big, grow: grow, rng: &rng) : rng.pick([5, 6, 7])
            s.ci = logSize(16 * big, grow: grow, rng: &rng)
        case .directPhases:
            s.ci = rng.pick([1, 2, 3, 4, 8, 12, 16, 24]) * (size == .small ? 1 : rng.pick([1, 2]))
            s.co = rng.nextInt(in: 1...max(1, 2 * s.ci))
            s.kernel = [rng.pick([3, 4, 5]), rng.pick([3, 4, 5])]
            s.stride = [rng.pick([1, 2]), rng.pick([1, 2])]
        case .im2colCol2im:
            // Co past one K block, and not direct (1-D, k1 s2 skips width phases).
            s.co = GEMMBlocking.kc + rng.nextInt(in: 1...16)
            s.ci = rng.nextInt(in: 1...2)
            s.kernel = [1, 1]
            s.stride = [1, 2]
            s.input = [1, rng.nextInt(in: 1...4)]
        case .panelWeights:
            s.co = rng.pick([128, 129, 136, 192, 256])
            let taps = s.kernel.reduce(1, *)
            s.ci = max(1, (65_536 / s.co + 1 + taps - 1) / taps) + rng.nextInt(in: 0...8)
            s.input = (0..<rank).map { _ in max(1, logSize(min(cap, 48), grow: grow, rng: &rng)) }
            s.n = 1
        }
        if path == .directWeights || path == .virtualGridWeights || path == .direct || path == .directWide {
            s.kernel = s.kernel.map { min($0, 5) }
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
            m = 4 * GEMMBlocking.mc + rng.nextInt(in: 0...GEMMBlocking.mc)
            n = 16 * GEMMBlocking.nr + rng.nextInt(in: 0...(8 * GEMMBlocking.nr))
            k = rng.nextInt(in: 2...8)
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
