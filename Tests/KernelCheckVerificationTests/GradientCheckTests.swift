import KernelCheckCore
import KernelCheckProblems
import Testing

@testable import KernelCheckVerification

/// Finite differences of the reference forward agree with every backward pass of the
/// reference and the tiled kernels, and disagree with a broken one.
@Suite struct GradientCheckTests {
    static let implementations: [any KernelImplementation] = [ReferenceImplementation(), TiledImplementation()]

    @Test(arguments: OpFamily.allCases)
    func backwardPassesAreGradientsOfTheForward(_ family: OpFamily) {
        var rng = SeededRNG(seed: 31, stream: family.rawValue)
        var checked = 0, worst = 0.0
        for index in 0..<25 {
            let problem = ProblemGenerator.random(family, rng: &rng)
            for direction in problem.directions where direction != .fwd {
                for implementation in Self.implementations {
                    let r = GradientCheck.run(problem, direction, implementation: implementation, seed: UInt64(index))
                    #expect(
                        r.status != .failed,
                        "\(implementation.name) \(problem) \(direction.rawValue): \(r.findings) seed \(index)")
                    if r.status == .passed { checked += 1; worst = max(worst, r.utilization) }
                }
            }
        }
        #expect(checked > 25)
        print("gradient checks \(family.rawValue): \(checked) passed, worst utilization \(worst)")
    }

    @Test func aWrongBackwardPassIsCaught() throws {
        // Backward-data with unmirrored kernel taps is not the gradient of the convolution.
        let problem = try Problem.parse("conv1d n=1 ic=2 oc=2 g=1 in=6 k=3 s=1 d=1 p=1:1 bias=0")
        let r = GradientCheck.run(
            problem, .bwdData, implementation: BrokenImplementation(bug: .transposedKernel), seed: 3)
        #expect(r.status == .failed && r.utilization > 1, "\(r)")
        #expect(r.role == "x")
    }

    @Test func reluKinksAreSkippedNotPassed() throws {
        let problem = try Problem.parse("relu shape=64")
        let r = GradientCheck.run(
            problem, .bwdData, implementation: TiledImplementation(), seed: 1, samples: 64, step: 0.5)
        // With h = 0.5 every |x| < 1 coordinate is within 2h of the kink: all are skipped.
        #expect(r.sampled == 0 && r.skippedKinks == 64 && r.status == .mistrusted)
    }
}
