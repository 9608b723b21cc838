import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

@Suite struct PadProjectionAForwardTests {
    /// The user question's `pad([1, 2, 3], padding=[7, 6])`: channels are the padded axis, so
    /// x is 1×3×1×1 and y is 1×16×1×1 with 1, 2, 3 at channels 7, 8, 9 (7 zeros before,
    /// 16 − 10 = 6 zeros after).
    @Test func userQuestionPadsThreeChannelsToSixteen() throws {
        let p = PadProjectionAProblem(batch: 1, channels: 3, inputSize: [1, 1], before: 7, after: 6)
        let y = Reference.padProjectionAForward(p, x: try tensor([1, 3, 1, 1], [1, 2, 3]))
        #expect(y.shape == [1, 16, 1, 1])
        #expect(y.storage == [0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0])
    }

    /// x is 1×1×4×4 holding x[h, w] = 4h + w + 1 (1…16, so a copied value is never confused
    /// with padding). `::2` keeps rows and columns 0 and 2: x[0,0] = 1, x[0,2] = 3,
    /// x[2,0] = 9, x[2,2] = 11. One zero channel before and one after.
    @Test func strideTwoSubsamplesBeforePadding() throws {
        let p = PadProjectionAProblem(batch: 1, channels: 1, inputSize: [4, 4], stride: [2, 2], before: 1, after: 1)
        let y = Reference.padProjectionAForward(p, x: try tensor([1, 1, 4, 4], (1...16).map(Double.init)))
        #expect(y.shape == [1, 3, 2, 2])
        #expect(y.storage == [0, 0, 0, 0, /**/ 1, 3, 9, 11, /**/ 0, 0, 0, 0])
    }

    /// C = 3 → C_out = 8 via `outChannels`: gap 5 splits as before = ⌊5/2⌋ = 2, after = 3 (the
    /// CIFAR code). 1-D, in = 5, s = 2 → out = ⌈5/2⌉ = 3 positions 0, 2, 4. With
    /// x[n, c, i] = 100n + 10c + i: y[n, c + 2, o] = 100n + 10c + 2o, e.g. y[1, 4, 2] = x[1, 2, 4] = 124.
    @Test func oddChannelGapPutsTheSmallerHalfFirst() throws {
        let p = try PadProjectionAProblem(batch: 2, channels: 3, inputSize: [5], stride: [2], outChannels: 8)
        #expect(p.before == 2 && p.after == 3)
        var x = Tensor<Double>(zeros: [2, 3, 5])
        for n in 0..<2 { for c in 0..<3 { for i in 0..<5 { x[n, c, i] = Double(100 * n + 10 * c + i) } } }
        let y = Reference.padProjectionAForward(p, x: x)
        #expect(y.shape == [2, 8, 3])
        #expect(y[1, 4, 2] == 124)
        #expect(y[0, 2, 0] == 0 && y[0, 2, 1] == 2 && y[0, 3, 2] == 14)  // x[0,0,0], x[0,0,2], x[0,1,4]
        for n in 0..<2 {
            for c in [0, 1, 5, 6, 7] { for o in 0..<3 { #expect(y[n, c, o] == 0, "padded channel \(c)") } }
            for c in 0..<3 { for o in 0..<3 { #expect(y[n, c + 2, o] == Double(100 * n + 10 * c + 2 * o)) } }
        }
    }

    /// 3-D: in = 3×3×3, s = 2 → 2×2×2 picking coordinates {0, 2}³. With x = offset + 1:
    /// y[0, 1, 1, 0, 1] = x[0, 0, 2, 0, 2] = (2·9 + 0·3 + 2) + 1 = 21.
    @Test func volumetricStride() throws {
        let p = PadProjectionAProblem(
            batch: 1, channels: 1, inputSize: [3, 3, 3], stride: [2, 2, 2], before: 1, after: 0)
        let y = Reference.padProjectionAForward(p, x: try tensor([1, 1, 3, 3, 3], (1...27).map(Double.init)))
        #expect(y.shape == [1, 2, 2, 2, 2])
        #expect(y[0, 1, 1, 0, 1] == 21)
        // All picked values in order: offsets 0, 2, 6, 8, 18, 20, 24, 26 plus one.
        #expect(Array(y.storage[8...]) == [1, 3, 7, 9, 19, 21, 25, 27])
        #expect(y.storage[..<8].allSatisfy { $0 == 0 })
    }
}

@Suite struct PadProjectionABackwardDataTests {
    /// The 4×4 stride-2 case backwards: dy's middle channel [1, 2, 3, 4] returns to x[0,0],
    /// x[0,2], x[2,0], x[2,2]; the padded channels' gradients (100s, 200s) are dropped.
    @Test func routesGradientBackToSampledPositions() throws {
        let p = PadProjectionAProblem(batch: 1, channels: 1, inputSize: [4, 4], stride: [2, 2], before: 1, after: 1)
        let dy = try tensor([1, 3, 2, 2], [100, 100, 100, 100, 1, 2, 3, 4, 200, 200, 200, 200])
        let dx = Reference.padProjectionABackwardData(p, dy: dy)
        #expect(dx.shape == [1, 1, 4, 4])
        #expect(dx.storage == [1, 0, 2, 0, /**/ 0, 0, 0, 0, /**/ 3, 0, 4, 0, /**/ 0, 0, 0, 0])
    }

    static let problems = [
        PadProjectionAProblem(batch: 2, channels: 3, inputSize: [5, 7], stride: [2, 3], before: 2, after: 1),
        PadProjectionAProblem(batch: 1, channels: 2, inputSize: [6], stride: [1], before: 0, after: 3),
        PadProjectionAProblem(batch: 1, channels: 2, inputSize: [3, 4, 5], stride: [2, 2, 2], before: 1, after: 2),
    ]

    /// ⟨A(x), g⟩ = ⟨x, Aᵀ(g)⟩, exact with integer fills.
    @Test(arguments: problems) func adjointIdentity(_ p: PadProjectionAProblem) {
        let x = integerTensor(p.xShape, seed: 13, role: "x"), g = integerTensor(p.yShape, seed: 13, role: "dy")
        let lhs = Reference.padProjectionAForward(p, x: x).dot(g)
        let rhs = x.dot(Reference.padProjectionABackwardData(p, dy: g))
        #expect(lhs == rhs)
        #expect(lhs != 0, "a zero inner product would make the identity vacuous")
    }

    @Test(arguments: problems) func finiteDifferences(_ p: PadProjectionAProblem) {
        let x = randomTensor(p.xShape, seed: 12, role: "x"), g = randomTensor(p.yShape, seed: 12, role: "dy")
        checkGradient("\(p) dx", analytic: Reference.padProjectionABackwardData(p, dy: g), at: x, seed: 12) {
            Reference.padProjectionAForward(p, x: $0).dot(g)
        }
    }
}

/// The option-B hand case: n = 1, 2 → 2 channels, in = 2×2, s = 2 → out 1×1, so only
/// x[0, :, 0, 0] = (1, 5) is read. ε = 0.25 and σ² = (3.75, 0.75) make √(σ²+ε) = (2, 1).
///   z₀ = 2·1 + (−1)·5 = −3,   z₁ = 0.5·1 + 1·5 = 5.5
///   y₀ = γ₀(z₀ − μ₀)/2 + β₀ = 2·(−3 + 1)/2 + 1 = −1
///   y₁ = γ₁(z₁ − μ₁)/1 + β₁ = 1·(5.5 − 0.5) − 1 = 4
enum ProjectionBHandCase {
    static let problem = PadProjectionBProblem(
        batch: 1, inChannels: 2, outChannels: 2, inputSize: [2, 2],
        stride: [2, 2], epsilon: 0.25)
    static func x() throws -> Tensor<Double> { try tensor([1, 2, 2, 2], [1, 2, 3, 4, /**/ 5, 6, 7, 8]) }
    static func w() throws -> Tensor<Double> { try tensor([2, 2, 1, 1], [2, -1, /**/ 0.5, 1]) }
    static func gamma() throws -> Tensor<Double> { try tensor([2], [2, 1]) }
    static func beta() throws -> Tensor<Double> { try tensor([2], [1, -1]) }
    static func mean() throws -> Tensor<Double> { try tensor([2], [-1, 0.5]) }
    static func variance() throws -> Tensor<Double> { try tensor([2], [3.75, 0.75]) }
    /// Upstream gradient for the backward hand values.
    static func dy() throws -> Tensor<Double> { try tensor([1, 2, 1, 1], [1, 2]) }
}

@Suite struct PadProjectionBForwardTests {
    @Test func handCase() throws {
        typealias H = ProjectionBHandCase
        let y = Reference.padProjectionBForward(
            H.problem, x: try H.x(), w: try H.w(), gamma: try H.gamma(),
            beta: try H.beta(), mean: try H.mean(), variance: try H.variance())
        #expect(y.shape == [1, 2, 1, 1])
        #expect(y.storage == [-1, 4])
    }
}

@Suite struct PadProjectionBBackwardTests {
    typealias H = ProjectionBHandCase

    /// dy = (1, 2); a = γ/√(σ²+ε) = (2/2, 1/1) = (1, 1), so dz = (1, 2).
    /// dx[0, ci, 0, 0] = Σ_co w[co, ci]·dz[co]: ci = 0: 2·1 + 0.5·2 = 3; ci = 1: −1·1 + 1·2 = 1;
    /// the three positions the stride skipped get 0.
    @Test func dataHandCase() throws {
        let dx = Reference.padProjectionBBackwardData(
            H.problem, dy: try H.dy(), w: try H.w(), gamma: try H.gamma(),
            variance: try H.variance())
        #expect(dx.storage == [3, 0, 0, 0, /**/ 1, 0, 0, 0])
    }

    /// dw[co, ci] = dz[co]·x[0, ci, 0, 0] = [[1·1, 1·5], [2·1, 2·5]].
    @Test func weightsHandCase() throws {
        let dw = Reference.padProjectionBBackwardWeights(
            H.problem, x: try H.x(), dy: try H.dy(), gamma: try H.gamma(),
            variance: try H.variance())
        #expect(dw.shape == [2, 2, 1, 1])
        #expect(dw.storage == [1, 5, 2, 10])
    }

    /// dγ[co] = dy·(z − μ)/√(σ²+ε): co 0: 1·(−3 + 1)/2 = −1; co 1: 2·(5.5 − 0.5)/1 = 10.
    /// dβ = dy summed over batch and space = (1, 2).
    @Test func gammaAndBetaHandCase() throws {
        let dgamma = Reference.padProjectionBBackwardGamma(
            H.problem, x: try H.x(), w: try H.w(), dy: try H.dy(),
            mean: try H.mean(), variance: try H.variance())
        #expect(dgamma.storage == [-1, 10])
        #expect(Reference.padProjectionBBackwardBeta(H.problem, dy: try H.dy()).storage == [1, 2])
    }

    static let problems = [
        PadProjectionBProblem(batch: 2, inChannels: 3, outChannels: 4, inputSize: [5, 4], stride: [2, 2]),
        PadProjectionBProblem(batch: 1, inChannels: 2, outChannels: 3, inputSize: [7], stride: [3], epsilon: 1e-3),
        PadProjectionBProblem(batch: 1, inChannels: 2, outChannels: 2, inputSize: [3, 3, 2], stride: [2, 1, 2]),
    ]

    /// Every option-B gradient against central differences of L = ⟨y, g⟩.
    @Test(arguments: problems) func finiteDifferences(_ p: PadProjectionBProblem) {
        let seed: UInt64 = 21
        let x = randomTensor(p.xShape, seed: seed, role: "x"), w = randomTensor(p.wShape, seed: seed, role: "w")
        let gamma = randomTensor(p.channelShape, seed: seed, role: "gamma", fill: .uniform(low: 0.5, high: 2))
        let beta = randomTensor(p.channelShape, seed: seed, role: "beta")
        let mean = randomTensor(p.channelShape, seed: seed, role: "mean")
        let variance = randomTensor(p.channelShape, seed: seed, role: "var", fill: .uniform(low: 0.2, high: 2))
        let g = randomTensor(p.yShape, seed: seed, role: "dy")
        let (x0, w0, gamma0, beta0) = (x, w, gamma, beta)
        func loss(
            x: Tensor<Double>? = nil, w: Tensor<Double>? = nil, gamma: Tensor<Double>? = nil,
            beta: Tensor<Double>? = nil
        ) -> Double {
            Reference.padProjectionBForward(
                p, x: x ?? x0, w: w ?? w0, gamma: gamma ?? gamma0, beta: beta ?? beta0,
                mean: mean, variance: variance
            ).dot(g)
        }
        checkGradient(
            "\(p) dx", analytic: Reference.padProjectionBBackwardData(p, dy: g, w: w, gamma: gamma, variance: variance),
            at: x, seed: seed
        ) { loss(x: $0) }
        checkGradient(
            "\(p) dw",
            analytic: Reference.padProjectionBBackwardWeights(p, x: x, dy: g, gamma: gamma, variance: variance),
            at: w, seed: seed
        ) { loss(w: $0) }
        checkGradient(
            "\(p) dgamma",
            analytic: Reference.padProjectionBBackwardGamma(p, x: x, w: w, dy: g, mean: mean, variance: variance),
            at: gamma, seed: seed
        ) { loss(gamma: $0) }
        checkGradient("\(p) dbeta", analytic: Reference.padProjectionBBackwardBeta(p, dy: g), at: beta, seed: seed) {
            loss(beta: $0)
        }
    }
}
