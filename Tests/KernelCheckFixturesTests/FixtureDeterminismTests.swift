import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckVerification
import Synchronization
import Testing

@testable import KernelCheckFixtures

/// `verify` runs the determinism check on fixture cases too: an implementation whose bits
/// change from run to run (a race, a thread-order-dependent reduction) fails even where its
/// first run matches the expected values.
@Suite struct FixtureDeterminismTests {
    /// The reference, except that every run of a direction after its first flips the last bit
    /// of output[0].
    final class Flickering: KernelImplementation {
        let name = "flickering"
        let seen = Mutex<Set<Direction>>([])
        func run(
            _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
            output: UnsafeMutableBufferPointer<Float>, threads: Int
        ) throws(ImplementationError) {
            try ReferenceImplementation().run(problem, direction, inputs: inputs, output: output, threads: threads)
            let first = seen.withLock { $0.insert(direction).inserted }
            if !first, !output.isEmpty { output[0] = Float(bitPattern: output[0].bitPattern ^ 1) }
        }
    }

    @Test func flickeringImplementationFailsAFixtureCase() throws {
        let fixture = try #require(try FixtureFile.read("\(repositoryRoot)/fixtures/linear.h5").first)
        let outcomes = FixtureVerification.verify(fixture, implementations: [Flickering()])
        #expect(!outcomes.isEmpty)
        for o in outcomes {
            #expect(o.status == .failed, "\(o.summary)")
            #expect(o.findings.contains { $0.hasPrefix("nondeterministic: a second run differs") }, "\(o.findings)")
        }
        let numbersOnly = FixtureVerification.verify(fixture, implementations: [Flickering()], determinism: false)
        #expect(numbersOnly.allSatisfy { $0.status != .failed })
    }
}
