import KernelCheckCore
import KernelCheckProblems

/// Helpers shared by the convolution and transposed-convolution reference tests: tensors from
/// literals, seeded random problems, integer fills, channel slicing and the finite-difference
/// sweep.
enum ConvTestSupport {
    /// A Double tensor from a shape and its row-major values.
    static func tensor(_ shape: [Int], _ values: [Double]) throws -> Tensor<Double> {
        try Tensor(shape: shape, storage: values)
    }

    /// benchdnn-style exact fill: small integers, so every sum in these tiny problems is exact
    /// in Double (and in Float) whatever the accumulation order.
    static let integerFill = Fill.integers(k: 3, density: 0.8)

    /// Random real fill for the finite-difference checks.
    static let realFill = Fill.normal(mean: 0, std: 1)

    // MARK: Random small problems

    /// A random valid convolution of rank 1–3 with tiny shapes: strides 1–3, dilations 1–2,
    /// groups 1–3, explicit / same / same_lower / valid padding.
    static func randomConv(_ rng: inout SeededRNG) -> ConvProblem {
        while true {
            let rank = rng.nextInt(in: 1...3)
            let groups = rng.nextInt(in: 1...3)
            let maxSize = rank == 3 ? 4 : 6
            let p = ConvProblem(
                batch: rng.nextInt(in: 1...2),
                inChannels: groups * rng.nextInt(in: 1...2),
                outChannels: groups * rng.nextInt(in: 1...2),
                groups: groups,
                inputSize: dims(rank, 1...maxSize, &rng),
                kernel: dims(rank, 1...3, &rng),
                stride: dims(rank, 1...3, &rng),
                dilation: dims(rank, 1...2, &rng),
                padding: randomPadding(rank, &rng),
                hasBias: rng.nextInt(in: 0...1) == 1)
            if isValid(p) { return p }
        }
    }

    /// A random valid transposed convolution of rank 1–3 with tiny shapes. `output_padding` is
    /// drawn below `max(s, d)`, or below `s` when `outputPaddingBelowStride` (the condition
    /// under which `adjointConvolution` maps the output back to exactly the input size).
    static func randomConvTranspose(_ rng: inout SeededRNG, outputPaddingBelowStride: Bool = false) -> ConvTransposeProblem {
        while true {
            let rank = rng.nextInt(in: 1...3)
            let groups = rng.nextInt(in: 1...3)
            let maxSize = rank == 3 ? 3 : 5
            let stride = dims(rank, 1...3, &rng), dilation = dims(rank, 1...2, &rng)
            let outputPadding = (0..<rank).map { i in
                rng.nextInt(in: 0...((outputPaddingBelowStride ? stride[i] : max(stride[i], dilation[i])) - 1))
            }
            let p = ConvTransposeProblem(
                batch: rng.nextInt(in: 1...2),
                inChannels: groups * rng.nextInt(in: 1...2),
                outChannels: groups * rng.nextInt(in: 1...2),
                groups: groups,
                inputSize: dims(rank, 1...maxSize, &rng),
                kernel: dims(rank, 1...4, &rng),
                stride: stride,
                dilation: dilation,
                padding: randomPadding(rank, &rng),
                outputPadding: outputPadding,
                hasBias: rng.nextInt(in: 0...1) == 1)
            if isValid(p) { return p }
        }
    }

    static func isValid(_ p: some ProblemDescriptor) -> Bool {
        do { try p.validate(); return true } catch { return false }
    }

    private static func dims(_ rank: Int, _ range: ClosedRange<Int>, _ rng: inout SeededRNG) -> [Int] {
        (0..<rank).map { _ in rng.nextInt(in: range) }
    }

    private static func randomPadding(_ rank: Int, _ rng: inout SeededRNG) -> Padding {
        switch rng.nextInt(in: 0...4) {
        case 0: return .valid
        case 1: return .same
        case 2: return .sameLower
        default: return .explicit(begin: dims(rank, 0...2, &rng), end: dims(rank, 0...2, &rng))
        }
    }

    // MARK: Channel slicing

    /// The sub-tensor `t[…, range, …]` along `axis` (axis 1 of activations, axis 0 of weights).
    static func slice(_ t: Tensor<Double>, axis: Int, _ range: Range<Int>) -> Tensor<Double> {
        let outer = t.shape[..<axis].reduce(1, *), inner = t.shape[(axis + 1)...].reduce(1, *)
        var values: [Double] = []
        for o in 0..<outer {
            for c in range {
                let start = (o * t.shape[axis] + c) * inner
                values.append(contentsOf: t.storage[start..<(start + inner)])
            }
        }
        var shape = t.shape
        shape[axis] = range.count
        return try! Tensor(shape: shape, storage: values)
    }

    /// Concatenation along `axis` (the inverse of slicing consecutive ranges).
    static func concatenate(_ parts: [Tensor<Double>], axis: Int) -> Tensor<Double> {
        let first = parts[0]
        let outer = first.shape[..<axis].reduce(1, *), inner = first.shape[(axis + 1)...].reduce(1, *)
        var values: [Double] = []
        for o in 0..<outer {
            for part in parts {
                let block = part.shape[axis] * inner
                values.append(contentsOf: part.storage[(o * block)..<((o + 1) * block)])
            }
        }
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        return try! Tensor(shape: shape, storage: values)
    }

    // MARK: Finite differences

    /// Largest relative error between `gradient` (the analytic ∂L/∂point) and central
    /// differences of `loss` at up to 20 sampled coordinates of `point`.
    ///
    /// Every loss here is `L = ⟨op(…), g⟩`, linear in the perturbed tensor, so the central
    /// difference has no truncation error whatever the step; a step of 1e-3 (rather than the
    /// default 1e-6) keeps the cancellation error near 1e-12, so a genuine index or sign
    /// error (relative error ≥ 1e-3 or so) stands far above the 1e-6 threshold.
    static func finiteDifferenceError(
        at point: Tensor<Double>, gradient: Tensor<Double>, rng: inout SeededRNG,
        _ loss: (Tensor<Double>) -> Double
    ) -> Double {
        precondition(point.shape == gradient.shape, "gradient \(gradient.shape) for a point \(point.shape)")
        var worst = 0.0
        for i in FiniteDifference.sampleIndices(elements: point.count, count: 20, rng: &rng) {
            let numeric = FiniteDifference.central(at: point, index: i, step: 1e-3, loss)
            worst = max(worst, FiniteDifference.relativeError(numeric, gradient.storage[i]))
        }
        return worst
    }
}
