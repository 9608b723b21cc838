import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckTiled
import Testing

func tiledLoss(_ kind: LossKind, _ x: [Float], _ t: [Float], threads: Int = 1) -> Float {
    let p = LossProblem(kind, shape: [x.count])
    return runKernel([x, t], outputCount: 1) { i, y in
        Tiled.lossForward(p, x: i[0], target: i[1], y: y, threads: threads)
    }[0]
}

func tiledLossGradient(_ kind: LossKind, _ x: [Float], _ t: [Float], dy: Float, threads: Int = 1) -> [Float] {
    let p = LossProblem(kind, shape: [x.count])
    return runKernel([x, t, [dy]], outputCount: x.count) { i, dx in
        Tiled.lossBackward(p, x: i[0], target: i[1], dy: i[2], dx: dx, threads: threads)
    }
}

@Suite("Loss")
struct LossTests {
    // x − t = [1, 2, 2, 3]; squares [1, 4, 4, 9]; Σ = 18; mean = 4.5.
    let x: [Float] = [1, 2, 3, 4]
    let t: [Float] = [0, 0, 1, 1]

    @Test("forward: hand-computed sum of squares and mean")
    func forward() {
        #expect(tiledLoss(.sumOfSquares, x, t) == 18)
        #expect(tiledLoss(.mse, x, t) == 4.5)
        // The user question's Σ m² with target 0: 1 + 4 + 9 + 16 = 30.
        #expect(tiledLoss(.sumOfSquares, x, [0, 0, 0, 0]) == 30)
    }

    @Test("backward: dx = dy·2(x − t) (sumsq) and dy·(2/n)(x − t) (mse)")
    func backward() {
        #expect(tiledLossGradient(.sumOfSquares, x, t, dy: 1) == [2, 4, 4, 6])
        #expect(tiledLossGradient(.mse, x, t, dy: 1) == [0.5, 1, 1, 1.5])
        #expect(tiledLossGradient(.mse, x, t, dy: 3) == [1.5, 3, 3, 4.5])
    }

    @Test("sumsq of zero elements is 0")
    func empty() {
        #expect(tiledLoss(.sumOfSquares, [], []) == 0)
    }

    @Test("a long sum is bit-identical for 1, 2 and 3 threads and within one rounding of a Double sum")
    func longSum() {
        // 100 003 elements: 7 blocks of 2¹⁴ and a partial one, plus a 3-element SIMD tail.
        let x = TestData.uniform(100_003, seed: 12, stream: "x")
        let t = TestData.uniform(100_003, seed: 12, stream: "t")
        let one = tiledLoss(.mse, x, t, threads: 1)
        for threads in [2, 3] { #expect(tiledLoss(.mse, x, t, threads: threads).bitPattern == one.bitPattern) }
        var exact = 0.0
        for i in x.indices { let d = Double(x[i]) - Double(t[i]); exact += d * d }
        exact /= Double(x.count)
        // Both sums are Double; their difference (~1e-12 relative) is far below a Float ulp.
        #expect(Swift.abs(Double(one) - exact) <= Double(one.ulp))
    }
}
