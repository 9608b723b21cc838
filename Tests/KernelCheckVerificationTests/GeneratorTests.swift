import KernelCheckCore
import KernelCheckProblems
import Testing

@testable import KernelCheckVerification

/// The edge classes each family's generator must reach. Each name is a predicate on the
/// drawn problem, stated independently of the generator's code.
func edgeClasses(_ p: Problem) -> Set<String> {
    var c = Set<String>()
    func add(_ name: String, _ condition: Bool) { if condition { c.insert(name) } }
    let bigTileEdges: Set<Int> = [15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65]
    switch p {
    case .conv(let v):
        addConvClasses(
            &c, rank: v.spatialRank, batch: v.batch, ic: v.inChannels, oc: v.outChannels, groups: v.groups,
            input: v.inputSize, kernel: v.kernel, stride: v.stride, dilation: v.dilation,
            padding: v.padding, resolved: v.resolvedPadding, hasBias: v.hasBias)
        add("input size 0", v.inputSize.contains(0))
        add("channels at a tile edge ≥ 15", bigTileEdges.contains(v.inChannels) || bigTileEdges.contains(v.outChannels))
    case .convTranspose(let v):
        addConvClasses(
            &c, rank: v.spatialRank, batch: v.batch, ic: v.inChannels, oc: v.outChannels, groups: v.groups,
            input: v.inputSize, kernel: v.kernel, stride: v.stride, dilation: v.dilation,
            padding: v.padding, resolved: v.resolvedPadding, hasBias: v.hasBias)
        add("output_padding > 0", v.outputPadding.contains { $0 > 0 })
        add("output_padding with same", v.outputPadding.contains { $0 > 0 } && v.padding == .same)
        add("channels at a tile edge ≥ 15", bigTileEdges.contains(v.inChannels) || bigTileEdges.contains(v.outChannels))
    case .padProjectionA(let v):
        add("batch 0", v.batch == 0)
        add("channels 0", v.channels == 0)
        add("input size 0", v.inputSize.contains(0))
        add("stride > input size", zip(v.stride, v.inputSize).contains { $0 > $1 && $1 > 0 })
        add("stride > 1", v.stride.contains { $0 > 1 })
        add("before ≠ after", v.before != v.after)
        add("no channel padding", v.before == 0 && v.after == 0)
        add("CIFAR doubling", v.before + v.after == v.channels && v.channels > 1 && v.before == v.channels / 2)
        for r in 1...3 { add("rank \(r)", v.inputSize.count == r) }
        add("non-square", Set(v.inputSize).count > 1)
    case .padProjectionB(let v):
        add("batch 0", v.batch == 0)
        add("ic 0", v.inChannels == 0)
        add("oc 0", v.outChannels == 0)
        add("stride > 1", v.stride.contains { $0 > 1 })
        add("stride > input size", zip(v.stride, v.inputSize).contains { $0 > $1 })
        for r in 1...3 { add("rank \(r)", v.inputSize.count == r) }
        for e in [1e-5, 1e-3, 0.1, 1] { add("eps \(e)", v.epsilon == e) }
        add("channels at a tile edge ≥ 15", bigTileEdges.contains(v.inChannels) || bigTileEdges.contains(v.outChannels))
    case .matmul(let v):
        for ta in [false, true] {
            for tb in [false, true] { add("ta=\(ta) tb=\(tb)", v.transposeA == ta && v.transposeB == tb) }
        }
        let (ra, rb) = (v.batchA.count, v.batchB.count)
        let r = max(ra, rb)
        let pa = Array(repeating: 1, count: r - ra) + v.batchA, pb = Array(repeating: 1, count: r - rb) + v.batchB
        add("no batch", r == 0)
        add("equal batch", r > 0 && v.batchA == v.batchB)
        add("broadcast batch", pa != pb)
        add("different batch ranks", ra != rb)
        add("1-sized batch dim broadcast", zip(pa, pb).contains { ($0 == 1) != ($1 == 1) })
        add("1-D a", v.aShape.count == 1)
        add("1-D b", v.bShape.count == 1)
        add("1-D a and b", v.aShape.count == 1 && v.bShape.count == 1)
        add("batch rank 3", r == 3)
        add("M 0", v.m == 0); add("N 0", v.n == 0); add("K 0", v.k == 0)
        add("M at a tile edge ≥ 15", bigTileEdges.contains(v.m))
        add("N at a tile edge ≥ 15", bigTileEdges.contains(v.n))
        add("K at a tile edge ≥ 15", bigTileEdges.contains(v.k))
    case .linear(let v):
        for r in 1...4 { add("x rank \(r)", v.xShape.count == r) }
        add("in 0", v.inFeatures == 0)
        add("out 0", v.outFeatures == 0)
        add("rows 0", v.xShape.dropLast().contains(0))
        add("bias", v.hasBias); add("no bias", !v.hasBias)
        add("in at a tile edge ≥ 15", bigTileEdges.contains(v.inFeatures))
        add("out at a tile edge ≥ 15", bigTileEdges.contains(v.outFeatures))
    case .activation(let v):
        add("relu", v.kind == .relu); add("sigmoid", v.kind == .sigmoid); add("tanh", v.kind == .tanh)
        if case .leakyRelu(let slope) = v.kind {
            add("leaky_relu", true)
            add("leaky slope 0", slope == 0)
            add("leaky slope < 0", slope < 0)
            add("leaky slope > 1", slope > 1)
        }
        add("scalar", v.shape.isEmpty)
        add("empty", v.shape.contains(0))
        add("rank 4", v.shape.count == 4)
    case .loss(let v):
        add("mse", v.kind == .mse); add("sumsq", v.kind == .sumOfSquares)
        add("scalar", v.shape.isEmpty)
        add("empty sumsq", v.kind == .sumOfSquares && v.shape.contains(0))
        add("rank 3", v.shape.count == 3)
    }
    return c
}

func addConvClasses(
    _ c: inout Set<String>, rank: Int, batch: Int, ic: Int, oc: Int, groups: Int, input: [Int], kernel: [Int],
    stride: [Int], dilation: [Int], padding: Padding, resolved: (begin: [Int], end: [Int]), hasBias: Bool
) {
    func add(_ name: String, _ condition: Bool) { if condition { c.insert(name) } }
    for r in 1...3 { add("rank \(r)", rank == r) }
    add("batch 0", batch == 0)
    add("channels 0", ic == 0 || oc == 0)
    add("stride > kernel", zip(stride, kernel).contains { $0 > $1 })
    add("dilation with stride", zip(stride, dilation).contains { $0 > 1 && $1 > 1 })
    let extents = (0..<rank).map { dilation[$0] * (kernel[$0] - 1) + 1 }
    add(
        "padding ≥ half the dilated kernel",
        (0..<rank).contains { i in
            max(resolved.begin[i], resolved.end[i]) > 0 && 2 * max(resolved.begin[i], resolved.end[i]) >= extents[i]
        })
    switch padding {
    case .valid: add("padding valid", true)
    case .same: add("padding same", true)
    case .sameLower: add("padding same_lower", true)
    case .explicit(let b, let e):
        add("padding explicit symmetric", b == e && b.contains { $0 > 0 })
        add("padding explicit asymmetric", b != e)
    }
    add("grouped", groups > 1 && groups != ic)
    add("depthwise", groups > 1 && groups == ic && oc == ic)
    add("depthwise multiplier > 1", groups > 1 && groups == ic && oc > ic)
    add("non-square", rank > 1 && (Set(input).count > 1 || Set(kernel).count > 1))
    add("bias", hasBias); add("no bias", !hasBias)
}

/// Classes each family must hit at least once in 2,000 draws.
let requiredClasses: [OpFamily: [String]] = [
    .conv: [
        "rank 1", "rank 2", "rank 3", "batch 0", "channels 0", "stride > kernel", "dilation with stride",
        "padding ≥ half the dilated kernel", "padding valid", "padding same", "padding same_lower",
        "padding explicit symmetric", "padding explicit asymmetric", "grouped", "depthwise", "depthwise multiplier > 1",
        "non-square", "bias", "no bias", "input size 0", "channels at a tile edge ≥ 15",
    ],
    .convTranspose: [
        "rank 1", "rank 2", "rank 3", "batch 0", "channels 0", "stride > kernel", "dilation with stride",
        "padding ≥ half the dilated kernel", "padding valid", "padding same", "padding same_lower",
        "padding explicit symmetric", "padding explicit asymmetric", "grouped", "depthwise",
        "depthwise multiplier > 1", "non-square", "bias", "no bias", "output_padding > 0",
        "output_padding with same", "channels at a tile edge ≥ 15",
    ],
    .padProjectionA: [
        "batch 0", "channels 0", "input size 0", "stride > input size", "stride > 1", "before ≠ after",
        "no channel padding", "CIFAR doubling", "rank 1", "rank 2", "rank 3", "non-square",
    ],
    .padProjectionB: [
        "batch 0", "ic 0", "oc 0", "stride > 1", "stride > input size", "rank 1", "rank 2", "rank 3",
        "eps 1e-05", "eps 0.001", "eps 0.1", "eps 1.0", "channels at a tile edge ≥ 15",
    ],
    .matmul: [
        "ta=false tb=false", "ta=false tb=true", "ta=true tb=false", "ta=true tb=true", "no batch", "equal batch",
        "broadcast batch", "different batch ranks", "1-sized batch dim broadcast", "batch rank 3", "M 0", "N 0", "K 0",
        "M at a tile edge ≥ 15", "N at a tile edge ≥ 15", "K at a tile edge ≥ 15", "1-D a", "1-D b", "1-D a and b",
    ],
    .linear: [
        "x rank 1", "x rank 2", "x rank 3", "x rank 4", "in 0", "out 0", "rows 0", "bias", "no bias",
        "in at a tile edge ≥ 15", "out at a tile edge ≥ 15",
    ],
    .activation: [
        "relu", "leaky_relu", "sigmoid", "tanh", "leaky slope 0", "leaky slope < 0", "leaky slope > 1", "scalar",
        "empty", "rank 4",
    ],
    .loss: ["mse", "sumsq", "scalar", "empty sumsq", "rank 3"],
]

@Suite("Problem generators")
struct GeneratorTests {
    @Test(
        "2,000 draws per family: valid, round-trip through their text, fit the small size, hit every edge class",
        arguments: OpFamily.allCases)
    func validProblemsCoverEdgeClasses(family: OpFamily) throws {
        var rng = SeededRNG(seed: 2024, stream: "generator-\(family.rawValue)")
        var counts: [String: Int] = [:]
        for _ in 0..<2_000 {
            let p = ProblemGenerator.random(family, rng: &rng, size: .small)
            #expect(p.family == family)
            try p.descriptor.validate()
            #expect(try Problem.parse(p.description) == p, "round trip of \(p)")
            let cost = ProblemGenerator.cost(p)
            #expect(cost.macs <= 20_000 && cost.largestTensor <= 4_096, "\(p) costs \(cost)")
            for name in edgeClasses(p) { counts[name, default: 0] += 1 }
        }
        let missing = (requiredClasses[family] ?? []).filter { counts[$0, default: 0] == 0 }
        #expect(missing.isEmpty, "\(family) never drew: \(missing); counts: \(counts.sorted { $0.key < $1.key })")
    }

    @Test("Draws are rarely rejected, so the fallback problem is never needed", arguments: OpFamily.allCases)
    func drawsRarelyRejected(family: OpFamily) {
        for size in GeneratorSize.allCases {
            var rng = SeededRNG(seed: 7, stream: "accept-\(family.rawValue)")
            var accepted = 0
            for _ in 0..<500 {
                if let d = ProblemGenerator.draw(family, rng: &rng, size: size), let p = try? Problem(d), size.admits(p)
                {
                    accepted += 1
                }
            }
            // With acceptance ≥ 1/2, 200 rejections in a row (the fallback) have probability ≤ 2^−200.
            #expect(accepted >= 250, "\(family) \(size): only \(accepted) of 500 draws accepted")
        }
    }

    @Test("The same seed gives the same problems; another seed gives others")
    func reproducible() {
        var a = SeededRNG(seed: 99), b = SeededRNG(seed: 99), c = SeededRNG(seed: 100)
        var differs = false
        for _ in 0..<400 {
            let pa = ProblemGenerator.random(rng: &a), pb = ProblemGenerator.random(rng: &b)
            #expect(pa == pb)
            if pa != ProblemGenerator.random(rng: &c) { differs = true }
        }
        #expect(differs)
    }

    @Test("random(rng:) draws every family")
    func allFamilies() {
        var rng = SeededRNG(seed: 5)
        var seen = Set<OpFamily>()
        for _ in 0..<400 { seen.insert(ProblemGenerator.random(rng: &rng).family) }
        #expect(seen == Set(OpFamily.allCases))
    }

    @Test("Medium problems are valid, fit the medium size and exceed the small one", arguments: OpFamily.allCases)
    func mediumSize(family: OpFamily) throws {
        var rng = SeededRNG(seed: 11, stream: "medium-\(family.rawValue)")
        var largerThanSmall = 0
        for _ in 0..<200 {
            let p = ProblemGenerator.random(family, rng: &rng, size: .medium)
            try p.descriptor.validate()
            #expect(GeneratorSize.medium.admits(p), "\(p)")
            if !GeneratorSize.small.admits(p) { largerThanSmall += 1 }
        }
        #expect(largerThanSmall > 0, "\(family): medium never exceeded the small limits")
    }

    @Test("admits applies both limits")
    func admits() throws {
        // 16·16·16 = 4,096 MACs and 256-element tensors: small.
        #expect(GeneratorSize.small.admits(try Problem.parse("matmul a=16x16 b=16x16")))
        // 30·30·30 = 27,000 MACs > 20,000.
        #expect(!GeneratorSize.small.admits(try Problem.parse("matmul a=30x30 b=30x30")))
        // 5,000 elements > 4,096 with no MACs at all.
        #expect(!GeneratorSize.small.admits(try Problem.parse("relu shape=5000")))
        #expect(GeneratorSize.medium.admits(try Problem.parse("relu shape=5000")))
    }
}
