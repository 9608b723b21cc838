import Foundation
import KernelCheckCore
import KernelCheckPlugins
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckVerification
import Testing

/// The rules of include/kernelcheck.h as the harness enforces them: loading errors, return
/// codes, the guards around the output, the alignment of every buffer.
@Suite(.enabled(if: SharedLibraryBuilds.compilerAvailable, SharedLibraryBuilds.noCompiler))
struct SharedLibraryContractTests {
    /// The misbehaving plug-in (`SharedLibraryBuilds.misbehavingCode`), built once per test.
    static func misbehaving(_ directory: URL) throws -> SharedLibraryImplementation {
        try SharedLibraryImplementation(
            path: try SharedLibraryBuilds.build(
                code: SharedLibraryBuilds.misbehavingCode, name: "misbehaving", in: directory))
    }

    @Test func writePastTheEndIsAFailureNamingTheGuard() throws {
        let directory = try TestSupport.makeScratchDirectory("lib-guard")
        defer { TestSupport.removeScratch(directory) }
        let library = try Self.misbehaving(directory)
        let outcome = CaseChecker(implementation: library).check(
            try Problem.parse("relu shape=8x16"), .bwdData, seed: 3, mode: .exact)
        #expect(outcome.status == .failed)
        #expect(
            outcome.findings.contains {
                $0.hasPrefix("out-of-bounds write: wrote 1 element past the end, nearest at offset +0")
            },
            "\(outcome.findings)")
    }

    @Test func alignedInputsAndOutputWithRolesAndShapes() throws {
        let directory = try TestSupport.makeScratchDirectory("lib-aligned")
        defer { TestSupport.removeScratch(directory) }
        let library = try Self.misbehaving(directory)
        let relu = try Problem.parse("relu shape=8x16")
        let outcome = CaseChecker(implementation: library).check(relu, .fwd, seed: 3, mode: .exact)
        #expect(outcome.status == .passed, "\(outcome.summary)")
        // A caller's output that is not 64-byte aligned is stood in for by an aligned one.
        let x: Tensor<Float> = Fill.uniform(low: -1, high: 1).tensor([8, 16], seed: 5, role: "x")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 129 * 4, alignment: 64)
        defer { raw.deallocate() }
        let output = UnsafeMutableBufferPointer(start: raw.bindMemory(to: Float.self, capacity: 129) + 1, count: 128)
        try library.run(relu, .fwd, inputs: ["x": x], output: output, threads: 1)
        #expect(Array(output) == x.storage.map { max($0, 0) })
    }

    @Test func returnCodesBecomeImplementationErrors() throws {
        let directory = try TestSupport.makeScratchDirectory("lib-codes")
        defer { TestSupport.removeScratch(directory) }
        let library = try Self.misbehaving(directory)
        func run(_ text: String) throws -> ImplementationError? {
            let problem = try Problem.parse(text)
            let inputs = CaseInputs.make(problem, seed: 1, mode: .bound)
            let output = GuardedBuffer(count: Shape.elementCount(problem.descriptor.output(for: .fwd).shape)!)
            do {
                try library.run(problem, .fwd, inputs: inputs, output: output.payload, threads: 0)
            } catch { return error }
            return nil
        }
        let name = library.name
        #expect(
            try run("sigmoid shape=3")
                == .failed(implementation: name, problem: "sigmoid shape=3", reason: "sigmoid is not ready"))
        #expect(try run("tanh shape=3") == .unsupported(implementation: name, problem: "tanh shape=3", direction: .fwd))
        #expect(
            try run("mse shape=3")
                == .failed(implementation: name, problem: "mse shape=3", reason: "kernelcheck_run returned 7"))
        #expect(try run("relu shape=3") == nil)
    }

    @Test func missingFileMissingSymbolsAndABIMismatchAreRefused() throws {
        let directory = try TestSupport.makeScratchDirectory("lib-refused")
        defer { TestSupport.removeScratch(directory) }
        let missing = directory.appendingPathComponent("absent.so").path
        #expect(throws: PluginError.libraryNotFound(path: missing)) {
            try Plugins.implementation(named: "lib:" + missing)
        }

        let unrelated = try SharedLibraryBuilds.build(
            code: "int unrelated(void) { return 0; }\n", name: "unrelated", in: directory)
        #expect(throws: PluginError.missingSymbol(path: unrelated, symbol: "kernelcheck_abi_version")) {
            try Plugins.implementation(named: "lib:" + unrelated)
        }
        let versionOnly = try SharedLibraryBuilds.build(
            code: "int kernelcheck_abi_version(void) { return 1; }\n", name: "version-only", in: directory)
        #expect(throws: PluginError.missingSymbol(path: versionOnly, symbol: "kernelcheck_supports")) {
            try Plugins.implementation(named: "lib:" + versionOnly)
        }
        let future = try SharedLibraryBuilds.build(
            code: "int kernelcheck_abi_version(void) { return 2; }\n", name: "future", in: directory)
        #expect(throws: PluginError.abiVersionMismatch(path: future, found: 2, expected: 1)) {
            try Plugins.implementation(named: "lib:" + future)
        }
        let notALibrary = directory.appendingPathComponent("future.c").path
        #expect {
            try Plugins.implementation(named: "lib:" + notALibrary)
        } throws: { error in
            guard case .libraryLoadFailed(let path, let reason) = error as? PluginError else { return false }
            return path == notALibrary && !reason.isEmpty
        }
    }
}
