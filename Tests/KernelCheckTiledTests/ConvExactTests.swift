import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import Testing

@testable import KernelCheckTiled

@Suite("Tiled convolution and transposed convolution: every direction equals the naive sums exactly (integer fills)")
struct ConvExactTests {
    @Test(
        "random problems from the product's generator (1-D/2-D/3-D, groups, depthwise, dilation, stride, padding and cropping, output_padding, empty dimensions)",
        arguments: ConvOp.allCases, 0..<32)
    func randomProblem(op: ConvOp, seed: Int) {
        checkExactly(op.tiledProblem(seed: UInt64(seed)), seed: UInt64(seed))
    }

    @Test("named corner problems", arguments: namedLayerProblems)
    func namedProblem(problem: any TiledConvolution, seed: UInt64) {
        checkExactly(problem, seed: seed)
    }

    @Test("the random sweep covers the corners it claims", arguments: ConvOp.allCases)
    func sweepCoverage(op: ConvOp) {
        let problems = (0..<32).map { op.tiledProblem(seed: UInt64($0)) }
        #expect(Set(problems.map(\.spatialRank)) == [1, 2, 3])
        #expect(problems.contains { $0.groups > 1 && $0.groups == $0.inChannels })  // depthwise
        #expect(problems.contains { $0.dilation.contains { $0 > 1 } && $0.stride.contains { $0 > 1 } })
        #expect(problems.contains { zip($0.stride, $0.kernel).contains { $0 > $1 } })
        #expect(problems.contains { $0.padBegin != $0.padEnd })
        #expect(problems.contains { $0.batch == 1 })
        switch op {
        case .conv:
            #expect(problems.contains { $0.groups > 1 && $0.groups < $0.inChannels })
            #expect(problems.contains { $0.kernel.allSatisfy { $0 == 1 } })
        case .convTranspose:
            #expect(problems.contains { ($0 as? ConvTransposeProblem)?.outputPadding.contains { $0 > 0 } == true })
        }
    }

    /// Hand-derived 1-D examples.
    ///
    /// Convolution: x = [1 2 3 4], w = [1 −1], b = 10, stride 1, no padding:
    /// y[o] = 10 + x[o] − x[o+1] = [9, 9, 9]; dy = [1 2 3] → dx = [1, 1, 1, −3]
    /// (dx[i] = dy[i]·1 + dy[i−1]·(−1)); dw = [Σ dy·x[o], Σ dy·x[o+1]] = [14, 20]; db = 6.
    ///
    /// Transposed: x = [1 2], w = [1 10], stride 2, b = 0.5: each input writes `x[i]·w[k]` at
    /// `2i + k`: y = [1, 10, 2, 20] + 0.5. dy = [1 2 3 4]: dx[i] = dy[2i]·1 + dy[2i+1]·10 =
    /// [21, 43]; dw[k] = Σ_i x[i]·dy[2i+k] = [1+6, 2+8] = [7, 10]; db = 10.
    @Test(
        "hand-derived 1-D examples",
        arguments: [
            HandDerived(
                problem: ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [4], kernel: [2]),
                x: [1, 2, 3, 4], w: [1, -1], b: [10], y: [9, 9, 9],
                dy: [1, 2, 3], dx: [1, 1, 1, -3], dw: [14, 20], db: [6]),
            HandDerived(
                problem: ConvTransposeProblem(
                    batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [2], stride: [2]),
                x: [1, 2], w: [1, 10], b: [0.5], y: [1.5, 10.5, 2.5, 20.5],
                dy: [1, 2, 3, 4], dx: [21, 43], dw: [7, 10], db: [10]),
        ])
    func handDerived(_ c: HandDerived) {
        c.check(c.problem)
    }

    @Test(
        "empty batch, channels or input run without touching memory they do not own",
        arguments: [
            (
                ConvProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [4, 4], kernel: [3, 3], hasBias: true)
                    as any TiledConvolution, 5
            ),
            (ConvProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [4], kernel: [3], hasBias: true), 5),
            (ConvProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [4], kernel: [3], hasBias: true), 5),
            // Input of size 0: every output sees only padding.
            (
                ConvProblem(
                    batch: 2, inChannels: 2, outChannels: 3, inputSize: [0, 2], kernel: [1, 1],
                    padding: .explicit(begin: [1, 0], end: [1, 0]), hasBias: true), 5
            ),
            (ConvTransposeProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [3, 3], kernel: [2, 2]), 6),
            (ConvTransposeProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [3], kernel: [2]), 6),
            (ConvTransposeProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [3], kernel: [2]), 6),
        ] as [(any TiledConvolution, UInt64)])
    func emptyShapes(problem: any TiledConvolution, seed: UInt64) throws {
        try problem.validate()
        checkExactly(problem, seed: seed)
    }

    @Test("with no input channels the output is the bias alone; with no output channels dx is zero")
    func emptyChannelValues() {
        let conv = ConvProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [4], kernel: [3], hasBias: true)
        #expect(
            LayerRun(p: conv, threads: 2).forward(x: [], w: [], b: [1, 2, 3]) == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
        let noInput = ConvTransposeProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [3], kernel: [2])
        #expect(
            LayerRun(p: noInput, threads: 2).forward(x: [], w: [], b: [1, 2, 3])
                == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
        let noOutput = ConvTransposeProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [3], kernel: [2])
        #expect(LayerRun(p: noOutput, threads: 2).backwardData(dy: [], w: []) == [Float](repeating: 0, count: 12))
    }
}

/// A problem with inputs and every direction's output worked out by hand.
struct HandDerived: Sendable, CustomTestStringConvertible {
    let problem: any TiledConvolution
    let x: [Float], w: [Float], b: [Float], y: [Float]
    let dy: [Float], dx: [Float], dw: [Float], db: [Float]

    var testDescription: String { problem.description }

    func check<Layer: TiledConvolution>(_ p: Layer) {
        let run = LayerRun(p: p, threads: 2)
        #expect(run.forward(x: x, w: w, b: b) == y)
        #expect(run.backwardData(dy: dy, w: w) == dx)
        #expect(run.backwardWeights(x: x, dy: dy) == dw)
        #expect(run.backwardBias(dy: dy) == db)
    }
}

@Suite("Tiled convolution and transposed convolution: bit-identical for any thread count (real fills)")
struct ConvDeterminismTests {
    static let problems: [(any TiledConvolution, UInt64)] =
        [
            // Several images → items run in parallel at 2 threads, one after another at 3.
            ConvProblem(
                batch: 4, inChannels: 3, outChannels: 5, inputSize: [7, 6], kernel: [3, 3],
                padding: .explicit(begin: [1, 0], end: [2, 1]), hasBias: true),
            ConvProblem(
                batch: 5, inChannels: 4, outChannels: 6, groups: 2, inputSize: [9], kernel: [3], stride: [2],
                dilation: [2], padding: .same, hasBias: true),
            ConvProblem(
                batch: 1, inChannels: 2, outChannels: 3, inputSize: [3, 4, 5], kernel: [2, 2, 2],
                padding: .explicit(begin: [1, 1, 1], end: [0, 0, 0]), hasBias: true),
            ConvProblem(batch: 3, inChannels: 6, outChannels: 4, inputSize: [5, 5], kernel: [1, 1], hasBias: true),
            // Depthwise, many groups: direct backward-weights workers on different groups at once.
            ConvProblem(
                batch: 3, inChannels: 24, outChannels: 24, groups: 24, inputSize: [13, 11], kernel: [2, 2],
                padding: .sameLower, hasBias: true),
        ].enumerated().map { ($0.element, 77 + UInt64($0.offset)) }
        + [
            ConvTransposeProblem(
                batch: 4, inChannels: 4, outChannels: 3, inputSize: [4, 5], kernel: [4, 4],
                stride: [2, 2], padding: .explicit(begin: [1, 1], end: [1, 1])),
            ConvTransposeProblem(
                batch: 1, inChannels: 4, outChannels: 6, groups: 2, inputSize: [7], kernel: [3],
                stride: [3], dilation: [2], outputPadding: [1]),
            ConvTransposeProblem(
                batch: 5, inChannels: 2, outChannels: 2, inputSize: [2, 3, 2], kernel: [2, 2, 3],
                stride: [1, 2, 1], padding: .explicit(begin: [0, 1, 1], end: [1, 0, 1])),
        ].enumerated().map { ($0.element, 88 + UInt64($0.offset)) }

    @Test("1, 2 and 3 threads give the same bits in every direction", arguments: problems)
    func threadsAgree(problem: any TiledConvolution, seed: UInt64) {
        Self.checkThreadsAgree(problem, seed: seed)
    }

    static func checkThreadsAgree<Layer: TiledConvolution>(_ p: Layer, seed: UInt64) {
        let x = TestData.filled(count(p.xShape), realFill, seed: seed, role: "x")
        let w = TestData.filled(count(p.wShape), realFill, seed: seed, role: "w")
        let b = TestData.filled(p.outChannels, realFill, seed: seed, role: "b")
        let dy = TestData.filled(count(p.yShape), realFill, seed: seed, role: "dy")
        for tuning in [
            ConvTuning.standard, tinyTuning, dualTuning, transposedTuning, directTuning, laneTuning, panelTuning,
        ] {
            let one = LayerRun(p: p, tuning: tuning, threads: 1)
            let y = one.forward(x: x, w: w, b: b), dx = one.backwardData(dy: dy, w: w)
            let dw = one.backwardWeights(x: x, dy: dy), db = one.backwardBias(dy: dy)
            for threads in [2, 3] {
                let run = LayerRun(p: p, tuning: tuning, threads: threads)
                expectIdentical(run.forward(x: x, w: w, b: b), y, "fwd \(run.context)")
                expectIdentical(run.backwardData(dy: dy, w: w), dx, "bwd_data \(run.context)")
                expectIdentical(run.backwardWeights(x: x, dy: dy), dw, "bwd_weights \(run.context)")
                expectIdentical(run.backwardBias(dy: dy), db, "bwd_bias \(run.context)")
            }
        }
    }
}
