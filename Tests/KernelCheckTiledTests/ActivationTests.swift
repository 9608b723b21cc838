import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckTiled
import Testing

func tiledActivation(_ kind: ActivationKind, _ x: [Float], threads: Int = 1) -> [Float] {
    let p = ActivationProblem(kind, shape: [x.count])
    return runKernel([x], outputCount: x.count) { i, y in Tiled.activationForward(p, x: i[0], y: y, threads: threads) }
}

func tiledActivationGradient(_ kind: ActivationKind, _ x: [Float], _ dy: [Float], threads: Int = 1) -> [Float] {
    let p = ActivationProblem(kind, shape: [x.count])
    return runKernel([x, dy], outputCount: x.count) { i, dx in
        Tiled.activationBackward(p, x: i[0], dy: i[1], dx: dx, threads: threads)
    }
}

@Suite("Activation")
struct ActivationTests {
    @Test("relu forward and backward, including the kink (gradient 0 at 0) and the SIMD tail")
    func relu() {
        // 37 elements = two 16-wide vectors + a 5-element tail; x cycles through −2, −0.5, 0, 0.5, 2.
        let pattern: [Float] = [-2, -0.5, 0, 0.5, 2]
        let x = (0..<37).map { pattern[$0 % 5] }
        let y = tiledActivation(.relu, x)
        #expect(y == x.map { $0 > 0 ? $0 : 0 })
        let dy = (0..<37).map { Float($0 + 1) }
        let dx = tiledActivationGradient(.relu, x, dy)
        for i in 0..<37 { #expect(dx[i] == (x[i] > 0 ? dy[i] : 0), "index \(i), x = \(x[i])") }
    }

    @Test("leaky relu: slope·x below zero, gradient = slope at 0")
    func leakyRelu() {
        let kind = ActivationKind.leakyRelu(slope: 0.25)
        // 0.25 is a power of two: every product below is exact.
        #expect(tiledActivation(kind, [-4, -1, 0, 3]) == [-1, -0.25, 0, 3])
        #expect(tiledActivationGradient(kind, [-4, 0, 3], [8, 8, 8]) == [2, 2, 8])
        // slope 0.01: −2·0.01 is rounded once from the exact product.
        #expect(tiledActivation(.leakyRelu(slope: 0.01), [-2]) == [Float(-0.02)])
    }

    @Test("sigmoid and tanh: known values, saturation, derivatives at 0")
    func smoothActivations() {
        // σ(0) = 1/2, σ′(0) = 1/4; σ(1) = 1/(1 + e^{−1}) = 0.7310585786300049.
        #expect(tiledActivation(.sigmoid, [0, 1, -200, 200]) == [0.5, Float(0.7310585786300049), 0, 1])
        #expect(tiledActivationGradient(.sigmoid, [0], [2]) == [0.5])
        // tanh(0) = 0, tanh′(0) = 1; tanh(0.5) = 0.46211715726000974.
        #expect(tiledActivation(.tanh, [0, 0.5, -30]) == [0, Float(0.46211715726000974), -1])
        #expect(tiledActivationGradient(.tanh, [0], [3]) == [3])
    }

    @Test(
        "backward matches a central difference of forward (sigmoid, tanh, leaky relu away from 0)",
        arguments: [ActivationKind.sigmoid, .tanh, .leakyRelu(slope: 0.1)])
    func gradientMatchesFiniteDifference(kind: ActivationKind) {
        let x: [Float] = [-2.5, -0.7, 0.3, 1.1, 2.0]
        let h: Float = 1.0 / 64
        let plus = tiledActivation(kind, x.map { $0 + h }), minus = tiledActivation(kind, x.map { $0 - h })
        let dx = tiledActivationGradient(kind, x, [Float](repeating: 1, count: x.count))
        for i in x.indices {
            let fd = (Double(plus[i]) - Double(minus[i])) / (2 * Double(h))
            // Central-difference error ~ h²/6·|f‴| ≤ 1e-4 here, plus float rounding ~1e-5.
            #expect(Swift.abs(fd - Double(dx[i])) < 5e-4, "\(kind.name) at \(x[i]): fd \(fd) vs \(dx[i])")
        }
    }

    @Test("large tensors are bit-identical for 1 and 2 threads", arguments: [ActivationKind.relu, .sigmoid])
    func deterministicAcrossThreads(kind: ActivationKind) {
        let x = TestData.uniform(70_001, seed: 4, stream: "x").map { $0 * 4 }
        let dy = TestData.uniform(70_001, seed: 4, stream: "dy")
        #expect(
            mismatch(tiledActivation(kind, x, threads: 2), tiledActivation(kind, x, threads: 1), bitwise: true) == nil)
        #expect(
            mismatch(
                tiledActivationGradient(kind, x, dy, threads: 2), tiledActivationGradient(kind, x, dy, threads: 1),
                bitwise: true) == nil)
    }
}
