import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// The backward passes of convolution and transposed convolution are the adjoints (and
/// gradients) of their forward passes, and a transposed convolution is the adjoint of a
/// convolution: checked on seeded random problems from the product's generator.
@Suite struct ConvAdjointTests {
    /// For each (op, gradient), on 20 seeded random problems of ranks 1–3 with integer fills
    /// (10 with Float, 10 with Double inputs), exactly:
    ///   bwd_data:    ⟨op(x; w), g⟩ = ⟨x, backwardData(g; w)⟩
    ///   bwd_weights: ⟨op(x; w), g⟩ = ⟨w, backwardWeights(x, g)⟩
    ///   bwd_bias:    ⟨op(x; w, b) − op(x; w), g⟩ = ⟨b, backwardBias(g)⟩ (the bias enters linearly)
    /// The identity holds trivially when both sides are 0; most problems must not be so.
    @Test(arguments: GradientCase.all)
    func adjointIdentity(_ c: GradientCase) {
        let (op, direction) = (c.op, c.direction)
        var rng = SeededRNG(seed: c.adjointSeed)
        let nonZero =
            Self.expectAdjointIdentity(op, direction, &rng, Float.self)
            + Self.expectAdjointIdentity(op, direction, &rng, Double.self)
        #expect(nonZero >= 15, "only \(nonZero) of 20 problems had a non-zero inner product")
    }

    /// Checks the identity of `direction` on 10 random problems with inputs of type `T`;
    /// returns how many had a non-zero inner product.
    static func expectAdjointIdentity<T: BinaryFloatingPoint & Sendable>(
        _ op: ConvOp, _ direction: Direction, _ rng: inout SeededRNG, _: T.Type
    ) -> Int {
        var nonZero = 0
        for _ in 0..<10 {
            var p = op.random(&rng)
            if direction == .bwdBias { p.hasBias = true }
            let t = ConvInputs<T>(p, exactFill, &rng)
            let (lhs, rhs): (Double, Double)
            switch direction {
            case .bwdData: (lhs, rhs) = (p.forward(x: t.x, w: t.w).dot(t.g), t.x.dot(p.backwardData(dy: t.g, w: t.w)))
            case .bwdWeights:
                (lhs, rhs) = (p.forward(x: t.x, w: t.w).dot(t.g), t.w.dot(p.backwardWeights(x: t.x, dy: t.g)))
            default:
                (lhs, rhs) = (
                    p.forward(x: t.x, w: t.w, b: t.b).dot(t.g) - p.forward(x: t.x, w: t.w).dot(t.g),
                    t.b.dot(p.backwardBias(dy: t.g))
                )
            }
            let problem = p.description
            #expect(lhs == rhs, "\(direction.rawValue) \(problem)")
            if lhs != 0 { nonZero += 1 }
        }
        return nonZero
    }

    /// Central differences of L = ⟨op(x; w, b), g⟩ w.r.t. x, w and b match backwardData(g; w),
    /// backwardWeights(x, g) and backwardBias(g), on 6 seeded random problems with real inputs
    /// and no empty tensor. L is linear in each, so a step of 1e-3 has no truncation error.
    @Test(arguments: GradientCase.all)
    func finiteDifferences(_ c: GradientCase) {
        let (op, direction, seed) = (c.op, c.direction, c.finiteDifferenceSeed)
        var rng = SeededRNG(seed: seed)
        for i in 0..<6 {
            var p = op.random(&rng, where: { TestProblems.hasNoEmptyTensor($0) })
            p.hasBias = true
            let t = ConvInputs<Double>(p, realFill, &rng), name = "\(direction.rawValue) \(p)", step = 1e-3
            let fdSeed = seed + UInt64(i)
            switch direction {
            case .bwdData:
                checkGradient(name, analytic: p.backwardData(dy: t.g, w: t.w), at: t.x, seed: fdSeed, step: step) {
                    p.forward(x: $0, w: t.w, b: t.b).dot(t.g)
                }
            case .bwdWeights:
                checkGradient(name, analytic: p.backwardWeights(x: t.x, dy: t.g), at: t.w, seed: fdSeed, step: step) {
                    p.forward(x: t.x, w: $0, b: t.b).dot(t.g)
                }
            default:
                checkGradient(name, analytic: p.backwardBias(dy: t.g), at: t.b, seed: fdSeed, step: step) {
                    p.forward(x: t.x, w: t.w, b: $0).dot(t.g)
                }
            }
        }
    }

    /// convᵀ is the adjoint of conv w.r.t. its input, so each of its passes is a pass of
    /// `p.adjointConvolution` (same geometry, input and output exchanged; benchdnn's deconv
    /// reference), elementwise and exactly with integer fills, over 20 seeded random problems
    /// (output_padding < s, where the adjoint convolution's output is exactly the transposed
    /// convolution's input):
    ///   convTransposeForward(x, w)        = convBackwardData(adjoint; dy: x, w)
    ///   convTransposeBackwardData(g, w)   = convForward(adjoint; x: g, w)
    ///   convTransposeBackwardWeights(x, g) = convBackwardWeights(adjoint; x: g, dy: x)
    ///     (both are Σ x·dy over the same taps, the roles of input and upstream gradient swapped)
    @Test(arguments: [(Direction.fwd, 0x7_F0D0 as UInt64), (.bwdData, 0x7C_F0D0), (.bwdWeights, 0x7C_3E17)])
    func transposedIsTheAdjointConvolution(direction: Direction, seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        for _ in 0..<20 {
            let p = TestProblems.convTranspose(&rng, where: TestProblems.outputPaddingBelowStride)
            let q = p.adjointConvolution
            #expect(q.yShape == p.xShape && q.xShape == p.yShape && q.wShape == p.wShape, "\(p) vs \(q)")
            guard q.yShape == p.xShape && q.xShape == p.yShape && q.wShape == p.wShape else { continue }
            switch direction {
            case .fwd:
                let x: Tensor<Float> = exactFill.tensor(p.xShape, rng: &rng)
                let w: Tensor<Float> = exactFill.tensor(p.wShape, rng: &rng)
                let y = Reference.convTransposeForward(p, x: x, w: w)
                #expect(y == Reference.convBackwardData(q, dy: x, w: w), "\(p)")
                // Not vacuous: some output is nonzero unless x or w is all zero (a 1 → 1 1×1
                // layer has one weight, zero in 30 % of the integer fills).
                #expect(
                    y.storage.contains { $0 != 0 } || x.storage.allSatisfy { $0 == 0 }
                        || w.storage.allSatisfy { $0 == 0 }, "\(p): all-zero output")
            case .bwdData:
                let g: Tensor<Double> = exactFill.tensor(p.yShape, rng: &rng)
                let w: Tensor<Double> = exactFill.tensor(p.wShape, rng: &rng)
                #expect(
                    Reference.convTransposeBackwardData(p, dy: g, w: w) == Reference.convForward(q, x: g, w: w), "\(p)")
            default:
                let x: Tensor<Double> = exactFill.tensor(p.xShape, rng: &rng)
                let g: Tensor<Double> = exactFill.tensor(p.yShape, rng: &rng)
                #expect(
                    Reference.convTransposeBackwardWeights(p, x: x, dy: g)
                        == Reference.convBackwardWeights(q, x: g, dy: x), "\(p)")
            }
        }
    }
}

/// One gradient of one op, with the seeds of its random problems.
struct GradientCase: Sendable, CustomTestStringConvertible {
    let op: ConvOp
    let direction: Direction
    let adjointSeed: UInt64
    let finiteDifferenceSeed: UInt64

    var testDescription: String { "\(op) \(direction.rawValue)" }

    static let all = [
        GradientCase(op: .conv, direction: .bwdData, adjointSeed: 0xC0_DA7A, finiteDifferenceSeed: 0xF1D_DA7A),
        GradientCase(op: .convTranspose, direction: .bwdData, adjointSeed: 0x7C_DA7A, finiteDifferenceSeed: 0xF1D_7CDA),
        GradientCase(op: .conv, direction: .bwdWeights, adjointSeed: 0xC0_3E16, finiteDifferenceSeed: 0xF1D_3E16),
        GradientCase(
            op: .convTranspose, direction: .bwdWeights, adjointSeed: 0x7C_3E16, finiteDifferenceSeed: 0xF1D_7C3E),
        GradientCase(op: .conv, direction: .bwdBias, adjointSeed: 0xC0_B1A5, finiteDifferenceSeed: 0xF1D_B1A5),
        GradientCase(op: .convTranspose, direction: .bwdBias, adjointSeed: 0x7C_B1A5, finiteDifferenceSeed: 0xF1D_7CB1),
    ]
}

/// Inputs of one random problem, drawn in this order from the problem's RNG stream.
struct ConvInputs<T: BinaryFloatingPoint & Sendable> {
    let x: Tensor<T>, w: Tensor<T>, b: Tensor<T>, g: Tensor<T>

    init(_ p: any ReferenceConvolution, _ fill: Fill, _ rng: inout SeededRNG) {
        x = fill.tensor(p.xShape, rng: &rng)
        w = fill.tensor(p.wShape, rng: &rng)
        b = fill.tensor(p.bShape, rng: &rng)
        g = fill.tensor(p.yShape, rng: &rng)
    }
}
