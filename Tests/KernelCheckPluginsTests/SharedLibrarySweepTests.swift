import Foundation
import KernelCheckPlugins
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckVerification
import Testing

/// The example C convolution (examples/c-conv/conv.c), compiled with `cc`, through the sweep
/// machinery `kernelcheck check` uses: it passes where it claims support, and a copy with a
/// planted padding bug fails, is shrunk, and replays from its printed line.
@Suite(.enabled(if: SharedLibraryBuilds.compilerAvailable, SharedLibraryBuilds.noCompiler))
struct SharedLibrarySweepTests {
    /// A conv sweep of forward and backward-data, the directions the example implements.
    static func sweep(_ library: SharedLibraryImplementation, cases: Int, seed: UInt64, mode: ComparisonMode) -> Sweep {
        Sweep(
            families: [.conv], directions: [.fwd, .bwdData], cases: cases, seed: seed, mode: mode,
            checker: CaseChecker(implementation: library))
    }

    @Test(arguments: [ComparisonMode.exact, .bound])
    func exampleConvolutionPassesEveryCaseItSupports(mode: ComparisonMode) throws {
        let directory = try TestSupport.makeScratchDirectory("lib-example")
        defer { TestSupport.removeScratch(directory) }
        let path = try SharedLibraryBuilds.build(SharedLibraryBuilds.exampleSource, name: "libconv.so", in: directory)
        let library = try SharedLibraryImplementation(path: path)
        #expect(library.name == "lib:" + path)
        #expect(library.displayName == "c-conv example 1.0")
        let result = Self.sweep(library, cases: 60, seed: 20_261_206, mode: mode).run()
        let replays = result.failures.map(\.replay).joined(separator: "\n")
        #expect(result.failed == 0, "seed \(result.seed), mode \(mode.rawValue):\n\(replays)")
        for key in ["conv/fwd", "conv/bwd_data"] {
            #expect((result.tallies[key]?.passed ?? 0) > 0, "\(key): \(String(describing: result.tallies[key]))")
        }
        // conv3d is not implemented: those cases are skipped, never passed.
        #expect(result.skipped > 0)
    }

    @Test func exampleDeclaresExactlyWhatItImplements() throws {
        let directory = try TestSupport.makeScratchDirectory("lib-supports")
        defer { TestSupport.removeScratch(directory) }
        let library = try SharedLibraryImplementation(
            path: try SharedLibraryBuilds.build(SharedLibraryBuilds.exampleSource, name: "libconv.so", in: directory))
        let conv2d = try Problem.parse("conv2d n=1 ic=4 oc=6 g=2 in=5x4 k=3x2 s=2x1 d=1x2 p=same_lower bias=1")
        let conv1d = try Problem.parse("conv1d n=2 ic=1 oc=1 in=7 k=3 p=0:2")
        for (problem, direction, expected) in [
            (conv2d, Direction.fwd, true), (conv2d, .bwdData, true), (conv2d, .bwdWeights, false),
            (conv2d, .bwdBias, false), (conv1d, .fwd, true), (conv1d, .bwdData, true),
            (try Problem.parse("conv3d n=1 ic=1 oc=1 in=3x3x3 k=1x1x1"), .fwd, false),
            (try Problem.parse("convt2d n=1 ic=1 oc=1 in=3x3 k=2x2"), .fwd, false),
            (try Problem.parse("relu shape=4"), .fwd, false),
        ] {
            #expect(library.supports(problem, direction) == expected, "\(problem) \(direction.rawValue)")
        }
        let skipped = CaseChecker(implementation: library).check(conv2d, .bwdWeights, seed: 1, mode: .exact)
        #expect(skipped.status == .skipped)
    }

    @Test func plantedPaddingBugFailsShrinksAndReplays() throws {
        let directory = try TestSupport.makeScratchDirectory("lib-planted")
        defer { TestSupport.removeScratch(directory) }
        // A space in the file name: the replay line must quote the implementation.
        let path = try SharedLibraryBuilds.build(
            SharedLibraryBuilds.exampleSource, name: "lib conv bug.so", in: directory, defines: ["PLANT_PADDING_BUG"])
        let library = try SharedLibraryImplementation(path: path)
        let sweep = Self.sweep(library, cases: 32, seed: 20_261_206, mode: .exact)
        let result = sweep.run()
        #expect(result.failed > 0, "seed \(result.seed): the planted padding bug went unnoticed")
        let failure = try #require(result.failures.first)
        let original = try Problem.parse(failure.original.problem), shrunk = try Problem.parse(failure.shrunk.problem)
        #expect(failure.shrinkSteps > 0 && Shrinker.measure(shrunk) < Shrinker.measure(original))
        #expect(failure.shrunk.status == .failed)
        #expect(failure.replay.contains("--impl " + ShellQuote.quote("lib:" + path)), "\(failure.replay)")
        #expect(failure.replay.contains("'lib:"), "a path with a space must be quoted: \(failure.replay)")
        // What the replay line names fails again on its own.
        let again = sweep.checker.check(
            shrunk, failure.shrunk.direction, seed: failure.shrunk.seed, mode: failure.shrunk.replayMode)
        #expect(again.status == .failed)
    }
}
