import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference

/// Is an implementation's backward pass the gradient of the forward pass?
///
/// For a backward direction that produces `∂L/∂r` for input role `r`, with the scalar
/// `L(inputs) = ⟨forward(inputs), dy⟩`, central finite differences of the *reference* forward
/// in Float64 give `∂L/∂rᵢ ≈ (L(r + h·eᵢ) − L(r − h·eᵢ)) / 2h` on a seeded sample of
/// coordinates, and the implementation's output there must agree within the element's error
/// bound (`ErrorBound.element` on the reference's `|A|·|B|`) plus the finite difference's own
/// error: `1e-6` relative for the truncation O(h²) of the smooth ops, and `16·u₆₄·‖L‖/h` for
/// the rounding of L's two evaluations, where `‖L‖ = ⟨|forward|(|inputs|), |dy|⟩`.
/// Coordinates within `2h` of a ReLU kink are skipped and counted.
public enum GradientCheck {
    public struct Result: Codable, Sendable {
        public var problem: String
        public var direction: Direction
        public var implementation: String
        public var seed: UInt64
        public var status: ComparisonStatus
        /// Largest `|implementation − finite difference| / tolerance` over the sample (≤ 1 passes).
        public var utilization: Double
        public var maxAbsError: Double
        public var sampled: Int
        public var skippedKinks: Int
        /// Flat index of the worst coordinate in role `role`.
        public var worstIndex: Int?
        public var role: String
        public var findings: [String]
    }

    /// The forward input whose gradient `direction` computes, or nil for `fwd`.
    public static func role(of direction: Direction, in problem: Problem) -> String? {
        switch (problem, direction) {
        case (_, .fwd): return nil
        case (.matmul, .bwdData): return "a"
        case (.matmul, .bwdWeights): return "b"
        case (_, .bwdData): return "x"
        case (_, .bwdWeights): return "w"
        case (_, .bwdBias): return "b"
        case (_, .bwdGamma): return "gamma"
        case (_, .bwdBeta): return "beta"
        }
    }

    public static func run(
        _ problem: Problem, _ direction: Direction, implementation: any KernelImplementation, seed: UInt64,
        samples: Int = 16, step h: Double = 1e-4
    ) -> Result {
        var result = Result(
            problem: problem.description, direction: direction, implementation: implementation.name, seed: seed,
            status: .failed, utilization: 0, maxAbsError: 0, sampled: 0, skippedKinks: 0, worstIndex: nil,
            role: "", findings: [])
        guard let role = role(of: direction, in: problem), problem.directions.contains(direction) else {
            result.status = .skipped
            result.findings = ["no gradient to check for \(direction.rawValue)"]
            return result
        }
        result.role = role
        let inputs = CaseInputs.make(problem, seed: seed, mode: .bound, specialValues: false)
        let d = problem.descriptor
        let output = d.output(for: direction)
        let buffer = GuardedBuffer(count: Shape.elementCount(output.shape) ?? 0)
        do {
            try implementation.run(problem, direction, inputs: inputs, output: buffer.payload, threads: 0)
        } catch {
            result.findings = ["error: \(error)"]
            return result
        }
        if let violation = buffer.checkGuards() { result.findings.append("out-of-bounds write: \(violation)") }
        let magnitude: Tensor<Double>
        do {
            magnitude = try ExpectedValues.compute(problem, direction, inputs: inputs).magnitude
        } catch {
            result.status = .skipped
            result.findings.append("reference cannot run: \(error)")
            return result
        }
        // L(inputs) = ⟨forward(inputs), dy⟩ on the reference, in Float64.
        let forwardInputs = d.inputs(for: .fwd).map(\.role)
        var base: [String: Tensor<Double>] = [:]
        for r in forwardInputs { base[r] = inputs[r]!.converted(to: Double.self) }
        let dy = inputs["dy"]!.converted(to: Double.self)
        func loss(_ perturbed: Tensor<Double>) -> Double {
            var all = base
            all[role] = perturbed
            return (try? Reference.run(problem, .fwd, inputs: all).dot(dy)) ?? .nan
        }
        let kinked: Bool = {
            guard case .activation(let p) = problem else { return false }
            switch p.kind {
            case .relu, .leakyRelu: return true
            case .sigmoid, .tanh: return false
            }
        }()
        // Rounding in L itself: every evaluation of L = Σ yᵢ·dyᵢ errs by about u₆₄ times its
        // magnitude ⟨|forward|(|inputs|), |dy|⟩, and the difference quotient divides that by h.
        let lossMagnitude =
            (try? ExpectedValues.compute(problem, .fwd, inputs: inputs).magnitude.dot(dy.magnitude)) ?? 0
        let quotientRounding = 16 * 0x1p-53 * lossMagnitude / h
        let target = base[role]!
        var rng = SeededRNG(seed: seed, stream: "gradient-check")
        let k = d.accumulationLength(for: direction)
        for i in FiniteDifference.sampleIndices(elements: target.count, count: samples, rng: &rng) {
            if kinked && Swift.abs(target.storage[i]) < 2 * h { result.skippedKinks += 1; continue }
            let fd = FiniteDifference.central(at: target, index: i, step: h, loss)
            let actual = Double(buffer.payload[i])
            let tolerance =
                ErrorBound.element(
                    expected: fd, magnitude: magnitude.storage[i], accumulationLength: k, precision: d.precision)
                + 1e-6 * (magnitude.storage[i] + Swift.abs(fd)) + quotientRounding
            let error = Swift.abs(actual - fd)
            result.sampled += 1
            result.maxAbsError = max(result.maxAbsError, error)
            let u = error == 0 ? 0 : error / tolerance
            if u > result.utilization || !u.isFinite { result.utilization = u; result.worstIndex = i }
        }
        if result.sampled == 0 {
            result.status = result.skippedKinks > 0 ? .mistrusted : .passed
            if result.skippedKinks > 0 { result.findings.append("every sampled coordinate sits at a kink") }
        } else {
            result.status = result.findings.isEmpty && result.utilization <= 1 ? .passed : .failed
            if result.utilization > 1, let w = result.worstIndex {
                result.findings.append(
                    "∂L/∂\(role)[\(w)]: implementation \(buffer.payload[w]) vs finite difference (utilization \(result.utilization))"
                )
            }
        }
        return result
    }
}
