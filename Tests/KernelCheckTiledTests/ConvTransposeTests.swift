import KernelCheckCore
import KernelCheckProblems
import Testing
@testable import KernelCheckTiled
import KernelCheckTestSupport

// Tiled transposed convolution vs. naive Float64 loops of ConvTransposeProblem's scatter
// formula `y[n, co, i·s − pb + k·d] += x[n, ci, i] · w[ci, co_g, k]`, integer fills, exact.

func randomConvTransposeProblem(seed: UInt64) -> ConvTransposeProblem {
    var rng = SeededRNG(seed: seed, stream: "convt-problem")
    while true {
        let rank = rng.nextInt(in: 1...3)
        let maxSize = [7, 4, 3][rank - 1]
        let depthwise = rng.nextInt(in: 0...4) == 0
        let g = depthwise ? rng.nextInt(in: 2...4) : [1, 1, 2, 3][rng.nextInt(in: 0...3)]
        let cinPer = depthwise ? 1 : rng.nextInt(in: 1...3)
        let coutPer = depthwise ? 1 : rng.nextInt(in: 1...3)
        var size: [Int] = [], k: [Int] = [], s: [Int] = [], d: [Int] = [], pb: [Int] = [], pe: [Int] = [], op: [Int] = []
        for _ in 0..<rank {
            size.append(rng.nextInt(in: 1...maxSize))
            k.append(rng.nextInt(in: 1...4))
            s.append(rng.nextInt(in: 1...3))
            d.append(rng.nextInt(in: 1...2))
            pb.append(rng.nextInt(in: 0...2))
            pe.append(rng.nextInt(in: 0...2))
            op.append(rng.nextInt(in: 0...(max(s.last!, d.last!) - 1)))
        }
        let p = ConvTransposeProblem(batch: rng.nextInt(in: 1...3), inChannels: g * cinPer, outChannels: g * coutPer,
                                     groups: g, inputSize: size, kernel: k, stride: s, dilation: d,
                                     padding: .explicit(begin: pb, end: pe), outputPadding: op,
                                     hasBias: rng.nextInt(in: 0...1) == 1)
        if (try? p.validate()) != nil, p.outputSize.allSatisfy({ $0 > 0 }) { return p }
    }
}

/// Named problems whose forward runs by output phases (`ConvLowering+DirectPhases.swift`)
/// under `directTuning` (`phasePaths` checks which).
let namedPhaseConvTransposeProblems: [ConvTransposeProblem] = [
    // The GAN layer tiny, 8 → 12 channels k4 s2 p1, 5 → 10 (a 12-row panel per phase).
    ConvTransposeProblem(batch: 2, inChannels: 8, outChannels: 12, inputSize: [5, 5], kernel: [4, 4], stride: [2, 2],
                         padding: .explicit(begin: [1, 1], end: [1, 1])),
    // output_padding 1 with k3 s2 p1: the last row and column belong to the phases.
    ConvTransposeProblem(batch: 1, inChannels: 2, outChannels: 3, inputSize: [3, 4], kernel: [3, 3], stride: [2, 2],
                         padding: .explicit(begin: [1, 1], end: [1, 1]), outputPadding: [1, 1]),
    // stride 3, dilation 2 (gcd 1: every phase has taps, phase 0 two of them at dilation 2),
    // 1-D with groups.
    ConvTransposeProblem(batch: 2, inChannels: 4, outChannels: 2, groups: 2, inputSize: [6], kernel: [4], stride: [3],
                         dilation: [2], padding: .explicit(begin: [1], end: [0]), hasBias: false),
    // stride 2, dilation 2: three quarters of the output hold only the bias.
    ConvTransposeProblem(batch: 1, inChannels: 3, outChannels: 2, inputSize: [3, 4], kernel: [2, 3], stride: [2, 2],
                         dilation: [2, 2], padding: .explicit(begin: [1, 0], end: [0, 1]), outputPadding: [1, 1]),
]

let namedConvTransposeProblems: [ConvTransposeProblem] = [
    // The GAN generator's upsampling (scaled down): k4 s2 p1, 4 → 8.
    ConvTransposeProblem(batch: 2, inChannels: 3, outChannels: 2, inputSize: [4, 4], kernel: [4, 4], stride: [2, 2],
                         padding: .explicit(begin: [1, 1], end: [1, 1])),
    // `same`: out = in·s.
    ConvTransposeProblem(batch: 1, inChannels: 2, outChannels: 3, inputSize: [5], kernel: [3], stride: [2],
                         padding: .same, outputPadding: [1]),
    // output_padding ≥ stride (allowed because d > s): trailing outputs receive no products.
    ConvTransposeProblem(batch: 1, inChannels: 2, outChannels: 2, inputSize: [3, 2], kernel: [2, 2], stride: [1, 1],
                         dilation: [3, 2], outputPadding: [2, 1], hasBias: false),
    // stride > kernel: gaps in the output that hold only the bias.
    ConvTransposeProblem(batch: 1, inChannels: 2, outChannels: 2, inputSize: [3], kernel: [2], stride: [4]),
    // 1×1 stride 1: a plain GEMM.
    ConvTransposeProblem(batch: 2, inChannels: 4, outChannels: 3, inputSize: [2, 3], kernel: [1, 1]),
    // Depthwise 3-D with cropping.
    ConvTransposeProblem(batch: 1, inChannels: 3, outChannels: 3, groups: 3, inputSize: [2, 3, 2], kernel: [2, 3, 2],
                         stride: [2, 1, 2], padding: .explicit(begin: [1, 1, 0], end: [0, 1, 1])),
] + namedPhaseConvTransposeProblems

func naiveConvTransposeForward(_ p: ConvTransposeProblem, x: [Float], w: [Float], b: [Float]?) -> [Double] {
    let spatial = p.outputSize.reduce(1, *)
    var y = [Double](repeating: 0, count: p.batch * p.outChannels * spatial)
    if let b { for i in y.indices { y[i] = Double(b[(i / spatial) % p.outChannels]) } }
    NaiveConvGeometry(p).forEachProduct { xi, yi, wi in y[yi] += Double(x[xi]) * Double(w[wi]) }
    return y
}

func naiveConvTransposeBackwardData(_ p: ConvTransposeProblem, dy: [Float], w: [Float]) -> [Double] {
    var dx = [Double](repeating: 0, count: p.xShape.reduce(1, *))
    NaiveConvGeometry(p).forEachProduct { xi, yi, wi in dx[xi] += Double(w[wi]) * Double(dy[yi]) }
    return dx
}

func naiveConvTransposeBackwardWeights(_ p: ConvTransposeProblem, x: [Float], dy: [Float]) -> [Double] {
    var dw = [Double](repeating: 0, count: p.wShape.reduce(1, *))
    NaiveConvGeometry(p).forEachProduct { xi, yi, wi in dw[wi] += Double(x[xi]) * Double(dy[yi]) }
    return dw
}

struct ConvTransposeRun: TiledLayerRun {
    let p: ConvTransposeProblem
    var tuning = ConvLoweringTuning.standard
    var threads = 1

    func forward(x: [Float], w: [Float], b: [Float]?) -> [Float] {
        withGuardedOutput(p.yShape.reduce(1, *), context) { y in
            withPointer(x) { x in withPointer(w) { w in withOptionalPointer(b) { b in
                Tiled.convTransposeForward(p, x: x, w: w, b: b, y: y, threads: threads, tuning: tuning)
            } } }
        }
    }

    func backwardData(dy: [Float], w: [Float]) -> [Float] {
        withGuardedOutput(p.xShape.reduce(1, *), context) { dx in
            withPointer(dy) { dy in withPointer(w) { w in
                Tiled.convTransposeBackwardData(p, dy: dy, w: w, dx: dx, threads: threads, tuning: tuning)
            } }
        }
    }

    func backwardWeights(x: [Float], dy: [Float]) -> [Float] {
        withGuardedOutput(p.wShape.reduce(1, *), context) { dw in
            withPointer(x) { x in withPointer(dy) { dy in
                Tiled.convTransposeBackwardWeights(p, x: x, dy: dy, dw: dw, threads: threads, tuning: tuning)
            } }
        }
    }

    func backwardBias(dy: [Float]) -> [Float] {
        withGuardedOutput(p.outChannels, context) { db in
            withPointer(dy) { dy in Tiled.convTransposeBackwardBias(p, dy: dy, db: db, threads: threads) }
        }
    }
}

func checkConvTransposeExactly(_ p: ConvTransposeProblem, seed: UInt64) {
    checkLayerExactly(p, seed: seed, ConvTransposeRun.self, forward: naiveConvTransposeForward(_:x:w:b:),
                      backwardData: naiveConvTransposeBackwardData(_:dy:w:),
                      backwardWeights: naiveConvTransposeBackwardWeights(_:x:dy:))
}

@Suite("Tiled transposed convolution: every direction equals naive loops exactly (integer fills)")
struct ConvTransposeExactTests {
    @Test("random tiny problems (1-D/2-D/3-D, groups, depthwise, dilation, output_padding, crops)",
          arguments: 0..<32)
    func randomProblem(seed: Int) {
        checkConvTransposeExactly(randomConvTransposeProblem(seed: UInt64(seed)), seed: UInt64(seed))
    }

    @Test("named corner problems", arguments: namedConvTransposeProblems.indices)
    func namedProblem(index: Int) {
        checkConvTransposeExactly(namedConvTransposeProblems[index], seed: 2000 + UInt64(index))
    }

    /// The phase problems run their forward as direct output phases under `directTuning`
    /// (phase (1, 1) of the second is 1 × 1: taps {1} per dimension, padding 0).
    @Test("the strided named problems take the phase path")
    func phasePaths() throws {
        let expected: [(index: Int, phases: Int, zeroFill: Bool)] = [(0, 4, false), (1, 4, false), (2, 3, false), (3, 1, true)]
        for e in expected {
            let lowering = ConvLowering(adjointOf: namedPhaseConvTransposeProblems[e.index], tuning: directTuning)
            let adjoint = try #require(lowering.directAdjoint, "problem \(e.index)")
            #expect(adjoint.phases.count == e.phases && adjoint.zeroFill == e.zeroFill, "problem \(e.index)")
        }
    }

    @Test("the sweep covers the corners it claims")
    func sweepCoverage() {
        let problems = (0..<32).map { randomConvTransposeProblem(seed: UInt64($0)) }
        #expect(Set(problems.map(\.spatialRank)) == [1, 2, 3])
        #expect(problems.contains { $0.groups > 1 && $0.groups == $0.inChannels })
        #expect(problems.contains { $0.outputPadding.contains { $0 > 0 } })
        #expect(problems.contains { $0.padBegin != $0.padEnd })
        #expect(problems.contains { $0.dilation.contains { $0 > 1 } && $0.stride.contains { $0 > 1 } })
        #expect(problems.contains { zip($0.stride, $0.kernel).contains { $0 > $1 } })
        #expect(problems.contains { $0.batch == 1 })
    }

    /// Hand-derived: x = [1 2], w = [1 10], stride 2, b = 0.5: each input writes
    /// `x[i]·w[k]` at `2i + k`: y = [1, 10, 2, 20] + 0.5. dy = [1 2 3 4]:
    /// dx[i] = dy[2i]·1 + dy[2i+1]·10 = [21, 43]; dw[k] = Σ_i x[i]·dy[2i+k] = [1+6, 2+8] = [7, 10].
    @Test("hand-derived 1-D example")
    func handDerived() {
        let p = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [2], stride: [2])
        let run = ConvTransposeRun(p: p, threads: 2)
        #expect(run.forward(x: [1, 2], w: [1, 10], b: [0.5]) == [1.5, 10.5, 2.5, 20.5])
        #expect(run.backwardData(dy: [1, 2, 3, 4], w: [1, 10]) == [21, 43])
        #expect(run.backwardWeights(x: [1, 2], dy: [1, 2, 3, 4]) == [7, 10])
        #expect(run.backwardBias(dy: [1, 2, 3, 4]) == [10])
    }
}

@Suite("Tiled transposed convolution: bit-identical for any thread count (real fills)")
struct ConvTransposeDeterminismTests {
    static let problems: [ConvTransposeProblem] = [
        ConvTransposeProblem(batch: 4, inChannels: 4, outChannels: 3, inputSize: [4, 5], kernel: [4, 4],
                             stride: [2, 2], padding: .explicit(begin: [1, 1], end: [1, 1])),
        ConvTransposeProblem(batch: 1, inChannels: 4, outChannels: 6, groups: 2, inputSize: [7], kernel: [3],
                             stride: [3], dilation: [2], outputPadding: [1]),
        ConvTransposeProblem(batch: 5, inChannels: 2, outChannels: 2, inputSize: [2, 3, 2], kernel: [2, 2, 3],
                             stride: [1, 2, 1], padding: .explicit(begin: [0, 1, 1], end: [1, 0, 1])),
    ]

    @Test("1, 2 and 3 threads give the same bits in every direction", arguments: problems.indices)
    func threadsAgree(index: Int) {
        let p = Self.problems[index]
        let seed = UInt64(88 + index)
        let x = filled(p.xShape.reduce(1, *), realFill, seed: seed, role: "x")
        let w = filled(p.wShape.reduce(1, *), realFill, seed: seed, role: "w")
        let b = filled(p.outChannels, realFill, seed: seed, role: "b")
        let dy = filled(p.yShape.reduce(1, *), realFill, seed: seed, role: "dy")
        for tuning in [ConvLoweringTuning.standard, tinyTuning, dualTuning, transposedTuning, directTuning, panelTuning] {
            let one = ConvTransposeRun(p: p, tuning: tuning, threads: 1)
            let y = one.forward(x: x, w: w, b: b), dx = one.backwardData(dy: dy, w: w)
            let dw = one.backwardWeights(x: x, dy: dy), db = one.backwardBias(dy: dy)
            for threads in [2, 3] {
                let run = ConvTransposeRun(p: p, tuning: tuning, threads: threads)
                expectIdentical(run.forward(x: x, w: w, b: b), y, "fwd \(run.context)")
                expectIdentical(run.backwardData(dy: dy, w: w), dx, "bwd_data \(run.context)")
                expectIdentical(run.backwardWeights(x: x, dy: dy), dw, "bwd_weights \(run.context)")
                expectIdentical(run.backwardBias(dy: dy), db, "bwd_bias \(run.context)")
            }
        }
    }
}

@Suite("Tiled transposed convolution: zero-size problems")
struct ConvTransposeZeroSizeTests {
    @Test("empty batch or channels run and give zeros where products are missing")
    func emptyShapes() throws {
        let problems = [
            ConvTransposeProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [3, 3], kernel: [2, 2]),
            ConvTransposeProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [3], kernel: [2]),
            ConvTransposeProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [3], kernel: [2]),
        ]
        for p in problems {
            try p.validate()
            checkConvTransposeExactly(p, seed: 6)
        }
        // No output channels: dx receives no products.
        #expect(ConvTransposeRun(p: problems[2], threads: 2).backwardData(dy: [], w: []) == [Float](repeating: 0, count: 12))
        // No input channels: y is the bias alone.
        #expect(ConvTransposeRun(p: problems[1], threads: 2).forward(x: [], w: [], b: [1, 2, 3])
                == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
    }
}
