import Foundation
import KernelCheckTestSupport
import Testing

/// `kernelcheck check --impl lib:PATH` end to end: exit 0 for the example, 1 with a replay line
/// that reproduces for the planted bug, 2 with one line for a library that cannot be used.
@Suite(.enabled(if: SharedLibraryBuilds.compilerAvailable, SharedLibraryBuilds.noCompiler))
struct SharedLibraryCLITests {
    static let sweep = ["check", "--op", "conv", "--cases", "12", "--seed", "5", "--no-failure-db"]

    @Test func checkExitsZeroForTheExampleAndOneWithAReplayLineForThePlantedBug() throws {
        let directory = try TestSupport.makeScratchDirectory("lib-cli")
        defer { TestSupport.removeScratch(directory) }
        let good = try SharedLibraryBuilds.build(SharedLibraryBuilds.exampleSource, name: "libconv.so", in: directory)
        let passing = try SharedLibraryBuilds.kernelcheck(Self.sweep + ["--impl", "lib:" + good], in: directory)
        #expect(passing.status == 0, "\(passing.stdoutText)\(passing.stderrText)")
        #expect(passing.stdoutText.contains("impl lib:\(good) (c-conv example 1.0)"), "\(passing.stdoutText)")

        let bug = try SharedLibraryBuilds.build(
            SharedLibraryBuilds.exampleSource, name: "lib conv bug.so", in: directory, defines: ["PLANT_PADDING_BUG"])
        let failing = try SharedLibraryBuilds.kernelcheck(Self.sweep + ["--impl", "lib:" + bug], in: directory)
        #expect(failing.status == 1, "\(failing.stdoutText)\(failing.stderrText)")
        let replay = try #require(
            failing.stdoutText.split(separator: "\n").first { $0.hasPrefix("  replay: kernelcheck check ") })
        #expect(replay.contains("--impl 'lib:\(bug)'"), "\(replay)")
        // The line as a shell runs it, with the built binary for `kernelcheck`.
        let command = "'\(SharedLibraryBuilds.binary)'" + replay.dropFirst("  replay: kernelcheck".count)
        let replayed = try SharedLibraryBuilds.shell(command, in: directory)
        #expect(
            replayed.status == 1
                && replayed.stdoutText.hasSuffix("0 passed, 1 failed, 0 mistrusted, 0 suspicious, 0 skipped\n"),
            "\(replayed.stdoutText)")
    }

    @Test func unusableLibrariesExitTwoWithOneLine() throws {
        let directory = try TestSupport.makeScratchDirectory("lib-cli-errors")
        defer { TestSupport.removeScratch(directory) }
        let unrelated = try SharedLibraryBuilds.build(
            code: "int unrelated(void) { return 0; }\n", name: "unrelated", in: directory)
        let future = try SharedLibraryBuilds.build(
            code: "int kernelcheck_abi_version(void) { return 2; }\n", name: "future", in: directory)
        for (path, message) in [
            ("absent.so", "lib:absent.so: no such file"),
            (unrelated, "lib:\(unrelated): the library does not export 'kernelcheck_abi_version'"),
            (future, "lib:\(future): the library was built for ABI version 2, this kernelcheck speaks version 1"),
        ] {
            let r = try SharedLibraryBuilds.kernelcheck(Self.sweep + ["--impl", "lib:" + path], in: directory)
            #expect(r.status == 2, "\(r.stderrText)")
            #expect(r.stderrText.hasPrefix("kernelcheck: error: " + message), "\(r.stderrText)")
            #expect(r.stderrText.split(separator: "\n").count == 1, "\(r.stderrText)")
        }
    }
}
