import KernelCheckCore
import Testing

/// The largest FD relative error any check must stay under.
public let finiteDifferenceTolerance = 1e-6

/// Compares an analytic gradient with central finite differences of the scalar `f` at `x`,
/// on at most `samples` coordinates drawn with a seeded RNG among those `eligible` accepts
/// (used to stay off kinks). Records a failure if no coordinate was eligible, so a check that
/// skipped everything never passes silently. Returns the worst relative error seen.
///
/// The default step h = 1e-5 sits near the optimum ε^{1/3} ≈ 6e-6 for central differences in
/// Float64: truncation error ~h²·|f‴| ≈ 1e-10 and rounding error ~ε·|f|/h ≈ 1e-11·|f|. It
/// stays well inside the 1e-3 margin kept around relu kinks, so a difference never straddles
/// a kink. A loss linear in `x` (`L = ⟨op(x), g⟩`) has no truncation error whatever the step:
/// there a step of 1e-3 keeps the cancellation error near 1e-12, so a genuine index or sign
/// error (relative error ≥ 1e-3 or so) stands far above the threshold.
@discardableResult
public func checkGradient(
    _ name: String, analytic: Tensor<Double>, at x: Tensor<Double>, seed: UInt64, samples: Int = 20,
    step: Double = 1e-5,
    eligible: (Int) -> Bool = { _ in true },
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: (Tensor<Double>) -> Double
) -> Double {
    #expect(
        analytic.shape == x.shape, "\(name): gradient shape \(analytic.shape) ≠ input shape \(x.shape)",
        sourceLocation: sourceLocation)
    let candidates = (0..<x.count).filter(eligible)
    #expect(!candidates.isEmpty, "\(name): no coordinate to check", sourceLocation: sourceLocation)
    var rng = SeededRNG(seed: seed, stream: "fd-sample")
    let picked = FiniteDifference.sampleIndices(elements: candidates.count, count: samples, rng: &rng).map {
        candidates[$0]
    }
    var worst = 0.0
    for i in picked {
        let numeric = FiniteDifference.central(at: x, index: i, step: step, f)
        let error = FiniteDifference.relativeError(analytic.storage[i], numeric)
        worst = max(worst, error)
        #expect(
            error < finiteDifferenceTolerance,
            "\(name)[\(i)]: analytic \(analytic.storage[i]) vs finite difference \(numeric), rel. error \(error)",
            sourceLocation: sourceLocation)
    }
    print("FD \(name): \(picked.count) coordinates, worst relative error \(worst)")
    return worst
}
