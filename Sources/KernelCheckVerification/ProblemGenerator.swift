import KernelCheckCore
import KernelCheckProblems
import KernelCheckTiled

/// How large the problems drawn by `ProblemGenerator` may be.
///
/// A problem is admitted when its costliest direction performs at most `maxMACs`
/// multiply-adds (`flops / 2`) and its largest tensor holds at most `maxTensorElements`
/// elements (see `ProblemGenerator.cost`).
public enum GeneratorSize: String, CaseIterable, Sendable, Codable {
    /// Cheap enough for the naive reference in a DEBUG build: the test suite runs hundreds of
    /// these per op and direction (≤ 20k MACs, tensors ≤ 4,096 elements).
    case small
    /// For release-build CLI sweeps (≤ 2M MACs, tensors ≤ 262,144 elements).
    case medium
    /// For release-build nightly sweeps: past the blocking thresholds (bands, panel blocks,
    /// kc, nc, mc; `ProblemGenerator+Large.swift`).
    case large

    public var maxMACs: Double { self == .small ? 20_000 : self == .medium ? 2_000_000 : Self.largeMaxMACs }
    public var maxTensorElements: Int {
        self == .small ? 4_096 : self == .medium ? 262_144 : Self.largeMaxTensorElements
    }

    /// Sizes around tile sizes (XNNPACK's "equal, less, greater, multiple" rule): 1 and small
    /// primes (remainder loops), multiples of 8 and 16 (SIMD widths) with one less and one more,
    /// and the tiled SGEMM's own register tile `GEMMBlocking.mr × nr` (12 × 32) and its 4- and
    /// 8-row edge kernels: mr, 2·mr, nr ± 1, and, for medium problems, the mc row block ± 1.
    public var tileEdgeSizes: [Int] {
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        var sizes: Set<Int> = [1, 2, 3, 5, 7, 8, 15, 16, 17, 47, 48, 63, 64, 65, 4, 9]
        for t in [mr, 2 * mr, nr] { sizes.formUnion([t - 1, t, t + 1]) }
        if self != .small {
            let mc = GEMMBlocking.mc
            sizes.formUnion([mc - 1, mc, mc + 1, 127, 128, 129])
        }
        return sizes.sorted()
    }

    /// Largest spatial size drawn for a given spatial rank (1, 2 or 3).
    func spatialCap(rank: Int) -> Int {
        switch (self, rank) {
        case (.small, 1): return 40
        case (.small, 2): return 12
        case (.small, _): return 6
        case (.medium, 1): return 300
        case (.medium, 2): return 40
        case (.medium, _): return 12
        case (.large, _): return Self.largeSpatialCap(rank: rank)
        }
    }

    /// Whether `p` fits this size's cost limits.
    public func admits(_ p: Problem) -> Bool {
        let c = ProblemGenerator.cost(p)
        return c.macs <= maxMACs && c.largestTensor <= maxTensorElements
    }
}

/// Seeded random generators of **valid** problems for every op family, weighted toward the
/// cases where kernels break (XNNPACK-style tile edges, benchdnn-style geometry corners):
///
/// - sizes 0 and 1 (batch 0, zero channels or features where the op allows them, empty and
///   one-element tensors), sizes from `GeneratorSize.tileEdgeSizes` for channels, features
///   and matrix dimensions (drawn about half the time);
/// - conv / transposed conv: spatial ranks 1, 2 and 3; stride larger than the kernel;
///   dilation together with stride; every padding mode (valid, same, same_lower, symmetric
///   and asymmetric explicit) with explicit padding up to the whole dilated kernel; grouped
///   and depthwise convolutions with channel multipliers 1–3; non-square geometry (each
///   spatial dimension drawn independently half the time); bias on and off; output_padding
///   for transposed convolutions;
/// - matmul: all four transpose combinations; no batch, equal batch, and broadcast batch
///   dims (1-sized dims, different batch ranks on each side); 1-D operands (vectors) on
///   either or both sides;
/// - linear with 0–3 leading dims; every activation kind (leaky ReLU slopes 0.01, 0.2, 0,
///   −0.5, 1.5); both losses; pad-projection A with symmetric, CIFAR-split and asymmetric
///   channel padding and strides that skip past the input.
///
/// Each draw is validated (`Problem.init(_:)`) and must fit the `GeneratorSize`; a draw
/// that does not is discarded and drawn again (rare by construction: sizes are drawn under
/// the remaining budget). The same `SeededRNG` state always gives the same problem.
public enum ProblemGenerator {
    /// Attempts before giving up on a family and returning its smallest problem. Draws are
    /// built to be valid, so this is a safety net against an endless loop, not a path the
    /// tests ever take (`GeneratorTests` checks the fallback never appears in 2,000 draws).
    static let maxAttempts = 200

    /// A random valid problem of `family` that fits `size`.
    public static func random(_ family: OpFamily, rng: inout SeededRNG, size: GeneratorSize = .small) -> Problem {
        if let problem = targetedDraw(family, rng: &rng, size: size) { return problem }
        for _ in 0..<maxAttempts {
            guard let descriptor = draw(family, rng: &rng, size: size),
                let problem = try? Problem(descriptor),
                size.admits(problem)
            else { continue }
            return problem
        }
        return fallback(family)
    }

    /// A random valid problem of a uniformly chosen family.
    public static func random(rng: inout SeededRNG, size: GeneratorSize = .small) -> Problem {
        let family = rng.pick(OpFamily.allCases)
        return random(family, rng: &rng, size: size)
    }

    /// The cost `GeneratorSize` limits: the largest `flops / 2` over the problem's directions
    /// and the element count of its largest tensor.
    public static func cost(_ p: Problem) -> (macs: Double, largestTensor: Int) {
        let d = p.descriptor
        let macs = d.directions.map { d.flops(for: $0) / 2 }.max() ?? 0
        let largest = d.allTensors.map { Shape.elementCount($0.shape) ?? Int.max }.max() ?? 0
        return (macs, largest)
    }

    static func draw(_ family: OpFamily, rng: inout SeededRNG, size: GeneratorSize) -> (any ProblemDescriptor)? {
        switch family {
        case .conv: return randomConv(rng: &rng, size: size)
        case .convTranspose: return randomConvTranspose(rng: &rng, size: size)
        case .padProjectionA: return randomPadProjectionA(rng: &rng, size: size)
        case .padProjectionB: return randomPadProjectionB(rng: &rng, size: size)
        case .matmul: return randomMatmul(rng: &rng, size: size)
        case .linear: return randomLinear(rng: &rng, size: size)
        case .activation: return randomActivation(rng: &rng, size: size)
        case .loss: return randomLoss(rng: &rng, size: size)
        }
    }

    /// The smallest meaningful problem of each family (the safety net of `random`).
    static func fallback(_ family: OpFamily) -> Problem {
        let text: String
        switch family {
        case .conv: text = "conv1d n=1 ic=1 oc=1 in=1 k=1"
        case .convTranspose: text = "convt1d n=1 ic=1 oc=1 in=1 k=1"
        case .padProjectionA: text = "padproj_a n=1 c=1 in=1 before=0 after=0"
        case .padProjectionB: text = "padproj_b n=1 ic=1 oc=1 in=1"
        case .matmul: text = "matmul a=1x1 b=1x1"
        case .linear: text = "linear x=1x1 out=1"
        case .activation: text = "relu shape=1"
        case .loss: text = "mse shape=1"
        }
        return try! Problem.parse(text)
    }

    // MARK: - Size draws shared by every family

    /// A size in `range`, weighted toward edge cases: the range's lower end (usually 1)
    /// with probability 0.1, a value of `edges` inside the range with probability 0.5, else
    /// uniform. With probability `zeroChance`, 0 (an empty dimension). An empty range gives
    /// its lower bound, which the caller's budget check then rejects.
    static func size(in range: ClosedRange<Int>, edges: [Int], zeroChance: Double = 0, rng: inout SeededRNG) -> Int {
        if zeroChance > 0 && rng.chance(zeroChance) { return 0 }
        let r = rng.nextUnitDouble()
        if r < 0.1 { return range.lowerBound }
        if r < 0.6 {
            let inRange = edges.filter { range.contains($0) }
            if !inRange.isEmpty { return rng.pick(inRange) }
        }
        return rng.nextInt(in: range)
    }

    /// `limit / product`, floored, with zero factors counted as 1 (a zero dimension costs
    /// nothing but must not make the cap infinite) and clamped to `Int` range.
    static func cap(_ limit: Double, _ factors: Int...) -> Int {
        let product = factors.reduce(1.0) { $0 * Double(max($1, 1)) }
        return Int(min(limit / product, Double(Int32.max)))
    }

    /// Small sizes for batch and leading dims: mostly 1–3, sometimes 0.
    static func batchSize(rng: inout SeededRNG, zeroWeight: Int = 1) -> Int {
        rng.weighted([(0, zeroWeight), (1, 8), (2, 4), (3, 2), (5, 1)])
    }

    // MARK: - Matmul and linear

    static func randomMatmul(rng: inout SeededRNG, size: GeneratorSize) -> MatmulProblem? {
        let ta = rng.chance(0.5), tb = rng.chance(0.5)
        var batchA: [Int] = [], batchB: [Int] = []
        switch rng.weighted([("none", 3), ("equal", 2), ("broadcast", 3)]) {
        case "none": break
        case "equal":
            let r = rng.nextInt(in: 1...(size == .small ? 2 : 3))
            batchA = (0..<r).map { _ in rng.weighted([(0, 1), (1, 3), (2, 4), (3, 3), (4, 1)]) }
            batchB = batchA
        default:
            // A full batch shape, then each operand takes a suffix of it (possibly shorter:
            // different batch ranks) with some dims replaced by 1 (broadcast dims).
            let r = rng.nextInt(in: 1...3)
            let full = (0..<r).map { _ in rng.nextInt(in: 2...4) }
            var ra = rng.nextInt(in: 0...r), rb = rng.nextInt(in: 0...r)
            if rng.chance(0.5) { ra = r } else { rb = r }
            batchA = full.suffix(ra).map { rng.chance(0.4) ? 1 : $0 }
            batchB = full.suffix(rb).map { rng.chance(0.4) ? 1 : $0 }
        }
        let probe = MatmulProblem(aShape: batchA + [1, 1], bShape: batchB + [1, 1])
        let countA = batchA.reduce(1, *), countB = batchB.reduce(1, *), countY = probe.batchCount
        let edges = size.tileEdgeSizes, maxMACs = size.maxMACs, maxElements = Double(size.maxTensorElements)

        // Draw M, N, K in a random order, each under the budget the others leave.
        var dims: [String: Int] = [:]
        func known(_ key: String) -> Int { dims[key] ?? 1 }
        for key in rng.shuffled(["m", "n", "k"]) {
            let limit: Int
            switch key {
            case "m":
                limit = min(
                    cap(maxMACs, countY, known("n"), known("k")), cap(maxElements, countA, known("k")),
                    cap(maxElements, countY, known("n")))
            case "n":
                limit = min(
                    cap(maxMACs, countY, known("m"), known("k")), cap(maxElements, countB, known("k")),
                    cap(maxElements, countY, known("m")))
            default:
                limit = min(
                    cap(maxMACs, countY, known("m"), known("n")), cap(maxElements, countA, known("m")),
                    cap(maxElements, countB, known("n")))
            }
            guard limit >= 1 else { return nil }
            dims[key] = Self.size(in: 1...limit, edges: edges, zeroChance: 0.04, rng: &rng)
        }
        let m = dims["m"]!, n = dims["n"]!, k = dims["k"]!
        var problem = MatmulProblem(
            aShape: batchA + (ta ? [k, m] : [m, k]), bShape: batchB + (tb ? [n, k] : [k, n]),
            transposeA: ta, transposeB: tb)
        // 1-D operands (torch.matmul's vectors: a = [K] is 1×K, b = [K] is K×1, that dimension
        // dropped from y), each side about one draw in eight. They come from a stream of
        // their own, seeded from a copy of `rng`, so the draws above and after stay what they
        // were before vectors existed.
        var copy = rng
        var side = SeededRNG(seed: copy.next(), stream: "matmul-vector")
        if side.chance(0.125) { problem.aShape = [k]; problem.transposeA = false }
        if side.chance(0.125) { problem.bShape = [k]; problem.transposeB = false }
        return problem
    }

    static func randomLinear(rng: inout SeededRNG, size: GeneratorSize) -> LinearProblem? {
        let leadRank = rng.weighted([(0, 2), (1, 3), (2, 2), (3, 1)])
        let lead = (0..<leadRank).map { _ in rng.weighted([(0, 1), (1, 4), (2, 4), (3, 3), (4, 2), (5, 1), (7, 1)]) }
        let rows = lead.reduce(1, *)
        let edges = size.tileEdgeSizes, maxMACs = size.maxMACs, maxElements = Double(size.maxTensorElements)
        // The side drawn first (either, so that either can be large) is capped by the budget
        // alone, the second by what the first leaves.
        func drawSides(_ rng: inout SeededRNG) -> (first: Int, second: Int)? {
            let first = Self.size(
                in: 1...max(1, min(cap(maxMACs, rows), cap(maxElements, rows))), edges: edges, zeroChance: 0.04,
                rng: &rng)
            let limit = min(cap(maxMACs, rows, first), cap(maxElements, rows), cap(maxElements, first))
            guard limit >= 1 else { return nil }
            return (first, Self.size(in: 1...limit, edges: edges, zeroChance: 0.04, rng: &rng))
        }
        let inFirst = rng.chance(0.5)
        guard let sides = drawSides(&rng) else { return nil }
        let (inFeatures, outFeatures) = inFirst ? (sides.first, sides.second) : (sides.second, sides.first)
        return LinearProblem(xShape: lead + [inFeatures], outFeatures: outFeatures, hasBias: rng.chance(0.5))
    }

    // MARK: - Elementwise

    /// A shape of rank `rank` whose element count stays within `maxElements`; each dim is
    /// an edge size, sometimes 0 when `allowZero`.
    static func elementwiseShape(rank: Int, size: GeneratorSize, allowZero: Bool, rng: inout SeededRNG) -> [Int]? {
        var shape: [Int] = []
        var count = 1
        for _ in 0..<rank {
            let limit = cap(Double(size.maxTensorElements), count)
            guard limit >= 1 else { return nil }
            let dimCap = size == .small ? (rank >= 3 ? 9 : 70) : (rank >= 3 ? 40 : 600)
            let d = Self.size(
                in: 1...min(limit, dimCap), edges: size.tileEdgeSizes,
                zeroChance: allowZero ? 0.04 : 0, rng: &rng)
            shape.append(d)
            count *= max(d, 1)
        }
        return shape
    }

    /// Leaky-ReLU slopes: PyTorch's default, a common GAN value, 0 (ReLU), a negative slope
    /// (valid, flips the sign of negative inputs) and a slope above 1.
    static let leakySlopes: [Double] = [0.01, 0.2, 0, -0.5, 1.5]

    static func randomActivation(rng: inout SeededRNG, size: GeneratorSize) -> ActivationProblem? {
        let kind: ActivationKind
        switch rng.nextInt(in: 0...3) {
        case 0: kind = .relu
        case 1: kind = .leakyRelu(slope: rng.pick(leakySlopes))
        case 2: kind = .sigmoid
        default: kind = .tanh
        }
        let rank = rng.weighted([(0, 1), (1, 3), (2, 3), (3, 2), (4, 1)])
        guard let shape = elementwiseShape(rank: rank, size: size, allowZero: true, rng: &rng) else { return nil }
        return ActivationProblem(kind, shape: shape)
    }

    static func randomLoss(rng: inout SeededRNG, size: GeneratorSize) -> LossProblem? {
        let kind: LossKind = rng.chance(0.5) ? .mse : .sumOfSquares
        let rank = rng.weighted([(0, 1), (1, 3), (2, 3), (3, 1)])
        // The mean of zero elements is undefined: only the sum may be empty.
        guard let shape = elementwiseShape(rank: rank, size: size, allowZero: kind == .sumOfSquares, rng: &rng) else {
            return nil
        }
        return LossProblem(kind, shape: shape)
    }

    // MARK: - Pad projections

    static func randomSpatial(rank: Int, minimum: Int, size: GeneratorSize, rng: inout SeededRNG) -> [Int] {
        let hi = size.spatialCap(rank: rank)
        let first = Self.size(in: minimum...hi, edges: size.tileEdgeSizes, rng: &rng)
        if rng.chance(0.5) { return Array(repeating: first, count: rank) }
        return [first] + (1..<rank).map { _ in Self.size(in: minimum...hi, edges: size.tileEdgeSizes, rng: &rng) }
    }

    static func randomPadProjectionA(rng: inout SeededRNG, size: GeneratorSize) -> PadProjectionAProblem? {
        let rank = rng.weighted([(1, 2), (2, 4), (3, 1)])
        let batch = batchSize(rng: &rng)
        var input = randomSpatial(rank: rank, minimum: 1, size: size, rng: &rng)
        if rng.chance(0.05) { input[rng.nextInt(in: 0...(rank - 1))] = 0 }
        let s = rng.weighted([(1, 3), (2, 4), (3, 1), (4, 1)])
        let stride = rng.chance(0.7) ? Array(repeating: s, count: rank) : (0..<rank).map { _ in rng.nextInt(in: 1...4) }
        let outSpatial = zip(input, stride).map { ($0 + $1 - 1) / $1 }.reduce(1, *)
        let inSpatial = input.reduce(1, *)
        let maxElements = Double(size.maxTensorElements)
        let limit = min(cap(maxElements, batch, inSpatial), cap(maxElements, batch, outSpatial))
        guard limit >= 1 else { return nil }
        let channels = Self.size(in: 1...limit, edges: size.tileEdgeSizes, zeroChance: 0.05, rng: &rng)
        let gaps = [0, 1, 2, 3, 5, 7, 8, 16]
        let before: Int, after: Int
        switch rng.weighted([("cifar", 4), ("asymmetric", 4), ("none", 1)]) {
        case "cifar":
            // The CIFAR ResNet shortcut doubles the channels: gap = C, split ⌊C/2⌋ / rest.
            let gap = rng.chance(0.5) ? channels : rng.pick(gaps)
            before = gap / 2; after = gap - gap / 2
        case "asymmetric":
            before = rng.pick(gaps); after = rng.pick(gaps)
        default:
            before = 0; after = 0
        }
        return PadProjectionAProblem(
            batch: batch, channels: channels, inputSize: input, stride: stride, before: before, after: after)
    }

    static let batchNormEpsilons: [Double] = [1e-5, 1e-3, 0.1, 1]

    static func randomPadProjectionB(rng: inout SeededRNG, size: GeneratorSize) -> PadProjectionBProblem? {
        let rank = rng.weighted([(1, 2), (2, 4), (3, 1)])
        let batch = batchSize(rng: &rng)
        let input = randomSpatial(rank: rank, minimum: 1, size: size, rng: &rng)
        let s = rng.weighted([(1, 3), (2, 4), (3, 1)])
        let stride = rng.chance(0.7) ? Array(repeating: s, count: rank) : (0..<rank).map { _ in rng.nextInt(in: 1...3) }
        let outSpatial = zip(input, stride).map { ($0 + $1 - 1) / $1 }.reduce(1, *)
        let inSpatial = input.reduce(1, *)
        let maxMACs = size.maxMACs, maxElements = Double(size.maxTensorElements)
        let icFirst = rng.chance(0.5)
        let firstLimit =
            icFirst
            ? min(cap(maxMACs, batch, outSpatial), cap(maxElements, batch, inSpatial))
            : min(cap(maxMACs, batch, outSpatial), cap(maxElements, batch, outSpatial))
        guard firstLimit >= 1 else { return nil }
        let first = Self.size(in: 1...firstLimit, edges: size.tileEdgeSizes, zeroChance: 0.04, rng: &rng)
        let secondLimit =
            icFirst
            ? min(cap(maxMACs, batch, outSpatial, first), cap(maxElements, batch, outSpatial), cap(maxElements, first))
            : min(cap(maxMACs, batch, outSpatial, first), cap(maxElements, batch, inSpatial), cap(maxElements, first))
        guard secondLimit >= 1 else { return nil }
        let second = Self.size(in: 1...secondLimit, edges: size.tileEdgeSizes, zeroChance: 0.04, rng: &rng)
        return PadProjectionBProblem(
            batch: batch, inChannels: icFirst ? first : second, outChannels: icFirst ? second : first,
            inputSize: input, stride: stride, epsilon: rng.pick(batchNormEpsilons))
    }
}

// MARK: - Random helpers (internal to the verification module)

extension SeededRNG {
    /// `true` with probability `p`.
    mutating func chance(_ p: Double) -> Bool { nextUnitDouble() < p }

    /// A uniformly chosen element (the array must not be empty).
    mutating func pick<T>(_ items: [T]) -> T { items[nextInt(in: 0...(items.count - 1))] }

    /// An element chosen with probability proportional to its weight.
    mutating func weighted<T>(_ items: [(T, Int)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var r = nextInt(in: 0...(total - 1))
        for (item, weight) in items {
            if r < weight { return item }
            r -= weight
        }
        return items[items.count - 1].0
    }

    /// The elements in a random order (Fisher–Yates with this generator, so reproducible).
    mutating func shuffled<T>(_ items: [T]) -> [T] {
        var out = items
        if out.count > 1 {
            for i in stride(from: out.count - 1, to: 0, by: -1) { out.swapAt(i, nextInt(in: 0...i)) }
        }
        return out
    }
}
