import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckTiled
import Testing

func tiledLinear(_ p: LinearProblem, x: [Float], w: [Float], b: [Float]?, threads: Int) -> [Float] {
    runKernel([x, w, b ?? []], outputCount: count(p.yShape)) { i, y in
        Tiled.linearForward(p, x: i[0], w: i[1], b: b == nil ? nil : i[2], y: y, threads: threads)
    }
}

@Suite("Linear")
struct LinearTests {
    // x = [[1, 2, 3], [0, −1, 2]], W = [[1, 0, −1], [2, 1, 0]], b = [0.5, −1]:
    // y[0] = [1 − 3 + 0.5, 2 + 2 − 1] = [−1.5, 3], y[1] = [0 − 2 + 0.5, 0 − 1 − 1] = [−1.5, −2].
    let p = LinearProblem(xShape: [2, 3], outFeatures: 2, hasBias: true)
    let x: [Float] = [1, 2, 3, 0, -1, 2]
    let w: [Float] = [1, 0, -1, 2, 1, 0]
    let b: [Float] = [0.5, -1]
    // dy = [[1, 2], [−1, 3]].
    let dy: [Float] = [1, 2, -1, 3]

    @Test("forward: hand-computed y = x·Wᵀ + b, and without bias")
    func forward() {
        #expect(tiledLinear(p, x: x, w: w, b: b, threads: 1) == [-1.5, 3, -1.5, -2])
        let noBias = LinearProblem(xShape: [2, 3], outFeatures: 2, hasBias: false)
        #expect(tiledLinear(noBias, x: x, w: w, b: nil, threads: 1) == [-2, 4, -2, -1])
    }

    @Test("backward data: dx = dy·W")
    func backwardData() {
        // dx[0] = 1·[1, 0, −1] + 2·[2, 1, 0] = [5, 2, −1];
        // dx[1] = −1·[1, 0, −1] + 3·[2, 1, 0] = [5, 3, 1].
        let dx = runKernel([dy, w], outputCount: 6) { i, dx in
            Tiled.linearBackwardData(p, dy: i[0], w: i[1], dx: dx, threads: 1)
        }
        #expect(dx == [5, 2, -1, 5, 3, 1])
    }

    @Test("backward weights: dW = dyᵀ·x")
    func backwardWeights() {
        // dW[0] = 1·[1, 2, 3] − 1·[0, −1, 2] = [1, 3, 1];
        // dW[1] = 2·[1, 2, 3] + 3·[0, −1, 2] = [2, 1, 12].
        let dw = runKernel([x, dy], outputCount: 6) { i, dw in
            Tiled.linearBackwardWeights(p, x: i[0], dy: i[1], dw: dw, threads: 1)
        }
        #expect(dw == [1, 3, 1, 2, 1, 12])
    }

    @Test("backward bias: db = column sums of dy")
    func backwardBias() {
        // db = [1 − 1, 2 + 3] = [0, 5].
        let db = runKernel([dy], outputCount: 2) { i, db in
            Tiled.linearBackwardBias(p, dy: i[0], db: db, threads: 1)
        }
        #expect(db == [0, 5])
    }

    @Test("the 2→7→2 MLP's second layer: dA1 = dZ2·W2 (not dZ2·A1), checked by adjoint identity")
    func mlpBackwardIsAdjoint() {
        // A layer 7 → 2 over a batch of 4 rows. Its data gradient is the adjoint of the
        // forward map x ↦ x·Wᵀ: ⟨x·Wᵀ, dy⟩ = ⟨x, dy·W⟩, and likewise for W: ⟨x·Wᵀ, dy⟩ = ⟨W, dyᵀ·x⟩.
        let layer = LinearProblem(xShape: [4, 7], outFeatures: 2, hasBias: false)
        let a1 = TestData.integers(28, seed: 11, stream: "x")
        let w2 = TestData.integers(14, seed: 11, stream: "w")
        let dz2 = TestData.integers(8, seed: 11, stream: "dy")
        let z2 = tiledLinear(layer, x: a1, w: w2, b: nil, threads: 1)
        let da1 = runKernel([dz2, w2], outputCount: 28) { i, dx in
            Tiled.linearBackwardData(layer, dy: i[0], w: i[1], dx: dx, threads: 1)
        }
        let dw2 = runKernel([a1, dz2], outputCount: 14) { i, dw in
            Tiled.linearBackwardWeights(layer, x: i[0], dy: i[1], dw: dw, threads: 1)
        }
        #expect(dot(z2, dz2) == dot(a1, da1))
        #expect(dot(z2, dz2) == dot(w2, dw2))
        #expect(dot(z2, dz2) != 0)
    }

    @Test("leading dims flatten into rows; results bit-identical for 1 and 2 threads")
    func leadingDimsAndThreads() {
        let p = LinearProblem(xShape: [3, 5, 40], outFeatures: 70, hasBias: true)
        let x = TestData.uniform(count(p.xShape), seed: 5, stream: "x")
        let w = TestData.uniform(count(p.wShape), seed: 5, stream: "w")
        let b = TestData.uniform(70, seed: 5, stream: "b")
        let dy = TestData.uniform(count(p.yShape), seed: 5, stream: "dy")
        func all(_ t: Int) -> [[Float]] {
            [
                tiledLinear(p, x: x, w: w, b: b, threads: t),
                runKernel([dy, w], outputCount: x.count) { i, o in
                    Tiled.linearBackwardData(p, dy: i[0], w: i[1], dx: o, threads: t)
                },
                runKernel([x, dy], outputCount: w.count) { i, o in
                    Tiled.linearBackwardWeights(p, x: i[0], dy: i[1], dw: o, threads: t)
                },
                runKernel([dy], outputCount: 70) { i, o in Tiled.linearBackwardBias(p, dy: i[0], db: o, threads: t) },
            ]
        }
        let one = all(1), two = all(2)
        for d in 0..<4 { #expect(mismatch(two[d], one[d], bitwise: true) == nil, "direction \(d)") }
        // Spot-check one element of y against a Double sum: y[r, o] = b[o] + Σ_i x[r, i]·w[o, i].
        let r = 11, o = 29
        var exact = Double(b[o])
        for i in 0..<40 { exact += Double(x[r * 40 + i]) * Double(w[o * 40 + i]) }
        #expect(Swift.abs(Double(one[0][r * 70 + o]) - exact) < 1e-5)
    }

    @Test("in = 0: y is the bias; rows = 0: dW and db are zero")
    func emptyDimensions() {
        let noInputs = LinearProblem(xShape: [2, 0], outFeatures: 3, hasBias: true)
        #expect(tiledLinear(noInputs, x: [], w: [], b: [1, 2, 3], threads: 1) == [1, 2, 3, 1, 2, 3])
        let noRows = LinearProblem(xShape: [0, 4], outFeatures: 3, hasBias: true)
        let dw = runKernel([[], []], outputCount: 12) { i, o in
            Tiled.linearBackwardWeights(noRows, x: i[0], dy: i[1], dw: o, threads: 1)
        }
        let db = runKernel([[]], outputCount: 3) { i, o in Tiled.linearBackwardBias(noRows, dy: i[0], db: o, threads: 1)
        }
        #expect(dw == [Float](repeating: 0, count: 12))
        #expect(db == [0, 0, 0])
    }
}
