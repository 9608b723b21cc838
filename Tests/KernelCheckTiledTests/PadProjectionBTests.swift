import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import Testing

@testable import KernelCheckTiled

// Option B (1×1 stride-s conv, then inference BatchNorm) vs. naive Float64 loops of the
// formulas in PadProjectionBProblem's doc comment.
//
// Exactness: integer x, w, γ, β, μ, dy, and ε = 0.25 with σ² ∈ {0, 0.75, 3.75, 15.75}, so
// √(σ²+ε) ∈ {0.5, 1, 2, 4}: every scale a = γ/√(σ²+ε) and every quotient is an exact binary
// fraction, and all sums stay far below 2²⁴, so fp32 results must equal the Float64 ones.

struct PadProjectionBInputs {
    let p: PadProjectionBProblem
    let x, w, gamma, beta, mean, variance, dy: [Float]

    init(_ p: PadProjectionBProblem, fill: Fill, seed: UInt64) {
        self.p = p
        let c = p.outChannels
        x = TestData.filled(p.xShape.reduce(1, *), fill, seed: seed, role: "x")
        w = TestData.filled(p.wShape.reduce(1, *), fill, seed: seed, role: "w")
        gamma = TestData.filled(c, fill, seed: seed, role: "gamma")
        beta = TestData.filled(c, fill, seed: seed, role: "beta")
        mean = TestData.filled(c, fill, seed: seed, role: "mean")
        dy = TestData.filled(p.yShape.reduce(1, *), fill, seed: seed, role: "dy")
        var rng = SeededRNG(seed: seed, stream: "var")
        let exactVariances: [Float] = [0, 0.75, 3.75, 15.75]
        variance = (0..<c).map { _ in exactVariances[rng.nextInt(in: 0...3)] }
    }

    /// x[n, ci, o·s] as a flat offset, for output position index `o` (row-major over outputSize).
    func xOffset(n: Int, ci: Int, o: Int) -> Int {
        var rest = o, flat = 0, scale = 1
        for dim in p.inputSize.indices.reversed() {
            let oi = rest % p.outputSize[dim]
            rest /= p.outputSize[dim]
            flat += oi * p.stride[dim] * scale
            scale *= p.inputSize[dim]
        }
        return (n * p.inChannels + ci) * p.inputSize.reduce(1, *) + flat
    }

    var spatial: Int { p.outputSize.reduce(1, *) }
    func root(_ c: Int) -> Double { (Double(variance[c]) + p.epsilon).squareRoot() }

    /// Calls `body(y, x, w, co)` for every product `w[co, ci]·x[n, ci, o·s]` of the 1×1
    /// convolution `z[n, co, o]`, as flat offsets into y (and z), x and w, in the order n, co,
    /// o, ci: the forward pass sums them per `y`, the two gradients scatter them.
    func forEachProduct(_ body: (_ y: Int, _ x: Int, _ w: Int, _ co: Int) -> Void) {
        for n in 0..<p.batch {
            for co in 0..<p.outChannels {
                for o in 0..<spatial {
                    for ci in 0..<p.inChannels {
                        body(
                            (n * p.outChannels + co) * spatial + o, xOffset(n: n, ci: ci, o: o), co * p.inChannels + ci,
                            co)
                    }
                }
            }
        }
    }

    /// dz = a·dy = γ/√(σ²+ε)·dy at the y offset `y` of channel `co`.
    func dz(_ y: Int, _ co: Int) -> Double { Double(gamma[co]) / root(co) * Double(dy[y]) }

    /// z[n, co, o] = Σ_ci w[co, ci]·x[n, ci, o·s].
    var z: [Double] {
        var z = [Double](repeating: 0, count: p.batch * p.outChannels * spatial)
        forEachProduct { yi, xi, wi, _ in z[yi] += Double(w[wi]) * Double(x[xi]) }
        return z
    }

    var expectedY: [Double] {
        z.enumerated().map { i, v in
            let c = (i / spatial) % p.outChannels
            return Double(gamma[c]) * (v - Double(mean[c])) / root(c) + Double(beta[c])
        }
    }

    /// dx[n, ci, o·s] = Σ_co w[co, ci]·dz, zero at positions the stride skips.
    var expectedDx: [Double] {
        var dx = [Double](repeating: 0, count: x.count)
        forEachProduct { yi, xi, wi, co in dx[xi] += Double(w[wi]) * dz(yi, co) }
        return dx
    }

    /// dw[co, ci] = Σ_{n, o} dz·x[n, ci, o·s].
    var expectedDw: [Double] {
        var dw = [Double](repeating: 0, count: w.count)
        forEachProduct { yi, xi, wi, co in dw[wi] += dz(yi, co) * Double(x[xi]) }
        return dw
    }

    var expectedDgamma: [Double] {
        let z = z
        var dg = [Double](repeating: 0, count: p.outChannels)
        for (i, v) in z.enumerated() {
            let c = (i / spatial) % p.outChannels
            dg[c] += Double(dy[i]) * (v - Double(mean[c])) / root(c)
        }
        return dg
    }

    var expectedDbeta: [Double] { channelSums(dy, channels: p.outChannels, spatial: spatial) }

    // The tiled kernels.

    /// Pointers to every input array, pinned for the duration of `body`.
    struct Pointers { let x, w, gamma, beta, mean, variance, dy: UnsafePointer<Float> }

    func withInputs<R>(_ body: (Pointers) -> R) -> R {
        withPointers([x, w, gamma, beta, mean, variance, dy]) { a in
            body(Pointers(x: a[0], w: a[1], gamma: a[2], beta: a[3], mean: a[4], variance: a[5], dy: a[6]))
        }
    }

    func forward(threads: Int) -> [Float] {
        withGuardedOutput(dy.count, "fwd \(p)") { y in
            withInputs { i in
                Tiled.padProjectionBForward(
                    p, x: i.x, w: i.w, gamma: i.gamma, beta: i.beta, mean: i.mean, variance: i.variance, y: y,
                    threads: threads)
            }
        }
    }

    func backwardData(threads: Int) -> [Float] {
        withGuardedOutput(x.count, "bwd_data \(p)") { dx in
            withInputs { i in
                Tiled.padProjectionBBackwardData(
                    p, dy: i.dy, w: i.w, gamma: i.gamma, variance: i.variance, dx: dx, threads: threads)
            }
        }
    }

    func backwardWeights(threads: Int) -> [Float] {
        withGuardedOutput(w.count, "bwd_weights \(p)") { dw in
            withInputs { i in
                Tiled.padProjectionBBackwardWeights(
                    p, x: i.x, dy: i.dy, gamma: i.gamma, variance: i.variance, dw: dw, threads: threads)
            }
        }
    }

    func backwardGamma(threads: Int) -> [Float] {
        withGuardedOutput(p.outChannels, "bwd_gamma \(p)") { dg in
            withInputs { i in
                Tiled.padProjectionBBackwardGamma(
                    p, x: i.x, w: i.w, dy: i.dy, mean: i.mean, variance: i.variance, dgamma: dg, threads: threads)
            }
        }
    }

    func backwardBeta(threads: Int) -> [Float] {
        withGuardedOutput(p.outChannels, "bwd_beta \(p)") { db in
            withInputs { i in Tiled.padProjectionBBackwardBeta(p, dy: i.dy, dbeta: db, threads: threads) }
        }
    }
}

func randomPadProjectionBProblem(seed: UInt64) -> PadProjectionBProblem {
    var rng = SeededRNG(seed: seed, stream: "padproj-b-problem")
    let rank = rng.nextInt(in: 1...3)
    let maxSize = [10, 6, 4][rank - 1]
    return PadProjectionBProblem(
        batch: rng.nextInt(in: 1...3), inChannels: rng.nextInt(in: 1...5), outChannels: rng.nextInt(in: 1...6),
        inputSize: (0..<rank).map { _ in rng.nextInt(in: 1...maxSize) },
        stride: (0..<rank).map { _ in rng.nextInt(in: 1...3) }, epsilon: 0.25)
}

@Suite("Tiled pad-projection option B: every direction equals naive loops exactly")
struct PadProjectionBExactTests {
    static func check(_ p: PadProjectionBProblem, seed: UInt64) {
        let inputs = PadProjectionBInputs(p, fill: exactFill, seed: seed)
        for threads in [1, 2] {
            expectEqual(inputs.forward(threads: threads), inputs.expectedY, "fwd \(p) threads=\(threads)")
            expectEqual(inputs.backwardData(threads: threads), inputs.expectedDx, "bwd_data \(p) threads=\(threads)")
            expectEqual(
                inputs.backwardWeights(threads: threads), inputs.expectedDw, "bwd_weights \(p) threads=\(threads)")
            expectEqual(
                inputs.backwardGamma(threads: threads), inputs.expectedDgamma, "bwd_gamma \(p) threads=\(threads)")
            expectEqual(inputs.backwardBeta(threads: threads), inputs.expectedDbeta, "bwd_beta \(p) threads=\(threads)")
        }
    }

    @Test("random tiny problems (1-D/2-D/3-D, stride 1–3)", arguments: 0..<30)
    func randomProblem(seed: Int) {
        Self.check(randomPadProjectionBProblem(seed: UInt64(seed)), seed: UInt64(seed))
    }

    @Test("the sweep includes stride 1 (plain GEMM) and strided problems")
    func sweepCoverage() {
        let problems = (0..<30).map { randomPadProjectionBProblem(seed: UInt64($0)) }
        #expect(problems.contains { $0.stride.allSatisfy { $0 == 1 } })
        #expect(problems.contains { $0.stride.contains { $0 > 1 } })
        #expect(Set(problems.map(\.inputSize.count)) == [1, 2, 3])
    }

    /// Hand-derived: x = [1 2 3 4 5] (1 channel), w = [2], s = 2 → z = 2·[1 3 5] = [2 6 10];
    /// γ = 3, σ² = 3.75, ε = 0.25 → √4 = 2, a = 1.5; μ = 4, β = 1 → y = 1.5·(z − 4) + 1 = [−2, 4, 10].
    /// dy = [1 1 2]: dx = w·a·dy at positions 0, 2, 4 = [3, 0, 3, 0, 6]; dw = a·Σ dy·x[2o] = 1.5·(1+3+10) = 21;
    /// dγ = Σ dy·(z − μ)/2 = (−2 + 2 + 12)/2 = 6; dβ = 4.
    @Test("hand-derived 1-D example")
    func handDerived() {
        let p = PadProjectionBProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [5], stride: [2], epsilon: 0.25)
        let x: [Float] = [1, 2, 3, 4, 5], w: [Float] = [2], dy: [Float] = [1, 1, 2]
        withPointers([x, w, dy, [3], [1], [4], [3.75]]) { a in
            let (x, w, dy, gamma, beta, mean, variance) = (a[0], a[1], a[2], a[3], a[4], a[5], a[6])
            let y = withGuardedOutput(3, "fwd") {
                Tiled.padProjectionBForward(
                    p, x: x, w: w, gamma: gamma, beta: beta, mean: mean, variance: variance, y: $0, threads: 2)
            }
            #expect(y == [-2, 4, 10])
            let dx = withGuardedOutput(5, "dx") {
                Tiled.padProjectionBBackwardData(p, dy: dy, w: w, gamma: gamma, variance: variance, dx: $0, threads: 2)
            }
            #expect(dx == [3, 0, 3, 0, 6])
            let dw = withGuardedOutput(1, "dw") {
                Tiled.padProjectionBBackwardWeights(
                    p, x: x, dy: dy, gamma: gamma, variance: variance, dw: $0, threads: 2)
            }
            #expect(dw == [21])
            let dg = withGuardedOutput(1, "dgamma") {
                Tiled.padProjectionBBackwardGamma(
                    p, x: x, w: w, dy: dy, mean: mean, variance: variance, dgamma: $0, threads: 2)
            }
            #expect(dg == [6])
            let db = withGuardedOutput(1, "dbeta") {
                Tiled.padProjectionBBackwardBeta(p, dy: dy, dbeta: $0, threads: 2)
            }
            #expect(db == [4])
        }
    }

    @Test("zero batch or zero channels run and give empty or zero results")
    func zeroSize() {
        for p in [
            PadProjectionBProblem(
                batch: 0, inChannels: 3, outChannels: 2, inputSize: [4, 4], stride: [2, 2], epsilon: 0.25),
            PadProjectionBProblem(batch: 2, inChannels: 0, outChannels: 2, inputSize: [5], stride: [2], epsilon: 0.25),
            PadProjectionBProblem(batch: 2, inChannels: 3, outChannels: 0, inputSize: [5], stride: [1], epsilon: 0.25),
        ] {
            Self.check(p, seed: 9)
        }
    }
}

@Suite("Tiled pad-projection option B: bit-identical for any thread count (real fills)")
struct PadProjectionBDeterminismTests {
    @Test("1, 2 and 3 threads give the same bits in every direction")
    func threadsAgree() {
        for p in [
            PadProjectionBProblem(batch: 4, inChannels: 6, outChannels: 5, inputSize: [7, 6], stride: [2, 2]),
            PadProjectionBProblem(batch: 1, inChannels: 3, outChannels: 7, inputSize: [40], stride: [1]),
        ] {
            let inputs = PadProjectionBInputs(p, fill: realFill, seed: 31)
            let reference = [
                inputs.forward(threads: 1), inputs.backwardData(threads: 1), inputs.backwardWeights(threads: 1),
                inputs.backwardGamma(threads: 1), inputs.backwardBeta(threads: 1),
            ]
            for threads in [2, 3] {
                let run = [
                    inputs.forward(threads: threads), inputs.backwardData(threads: threads),
                    inputs.backwardWeights(threads: threads), inputs.backwardGamma(threads: threads),
                    inputs.backwardBeta(threads: threads),
                ]
                for (direction, (a, b)) in zip(
                    ["fwd", "bwd_data", "bwd_weights", "bwd_gamma", "bwd_beta"], zip(run, reference))
                {
                    expectIdentical(a, b, "\(direction) \(p) threads=\(threads)")
                }
            }
        }
    }
}
