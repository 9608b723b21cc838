import Foundation
import KernelCheckFixtures
import KernelCheckTestSupport
import Testing

/// Plug-in libraries compiled for the tests with the system C compiler (`cc`), and the built
/// `kernelcheck` binary that loads them.
enum SharedLibraryBuilds {
    /// Whether `cc` runs; the suites that need it are skipped (with this reason) without one.
    static let compilerAvailable: Bool =
        (try? ChildProcess.run("/usr/bin/env", ["cc", "--version"]))?.status == 0
    static let noCompiler: Comment = "no C compiler: 'cc' is not on PATH"

    /// The example plug-in's source.
    static let exampleSource = TestSupport.path("examples/c-conv/conv.c")

    struct BuildFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Compiles the C file `source` into the shared library `directory/name` (with `-D` for
    /// each of `defines`) and returns its path.
    static func build(_ source: String, name: String, in directory: URL, defines: [String] = []) throws -> String {
        let library = directory.appendingPathComponent(name).path
        let arguments =
            ["cc", "-std=c99", "-O1", "-shared", "-fPIC", "-I", TestSupport.path("include")]
            + defines.map { "-D" + $0 } + [source, "-o", library]
        let result = try ChildProcess.run("/usr/bin/env", arguments)
        guard result.status == 0 else { throw BuildFailed(description: "cc failed: \(result.stderrText)") }
        return library
    }

    /// Writes `code` to `directory/<name>.c` and compiles it into `directory/<name>.so`.
    static func build(code: String, name: String, in directory: URL) throws -> String {
        let source = directory.appendingPathComponent(name + ".c")
        try Data(code.utf8).write(to: source)
        return try build(source.path, name: name + ".so", in: directory)
    }

    /// A plug-in that breaks each rule of the header on purpose, by op: `relu` fwd is right
    /// (after checking the alignment and roles the header promises, error 2 otherwise), `relu`
    /// bwd_data writes one element past the end of its output, `sigmoid` returns 2 with a
    /// message, `tanh` returns 1 (unsupported) and `mse` returns 7.
    static let misbehavingCode = """
        #include "kernelcheck.h"
        #include <stdint.h>
        #include <stdio.h>
        #include <string.h>

        static int aligned(const void *p) { return ((uintptr_t)p & 63) == 0; }
        static int fail(char *message, size_t capacity, const char *why) {
            snprintf(message, capacity, "%s", why);
            return KERNELCHECK_ERROR;
        }

        int kernelcheck_abi_version(void) { return KERNELCHECK_ABI_VERSION; }
        const char *kernelcheck_name(void) { return "misbehaving"; }
        int kernelcheck_supports(const char *problem, const char *direction) { (void)problem; (void)direction; return 1; }

        int kernelcheck_run(const char *problem, const char *direction, const kernelcheck_tensor *inputs,
                            size_t input_count, const kernelcheck_output *output, int threads, char *message,
                            size_t capacity) {
            (void)threads;
            if (strncmp(problem, "sigmoid ", 8) == 0) return fail(message, capacity, "sigmoid is not ready");
            if (strncmp(problem, "tanh ", 5) == 0) return KERNELCHECK_UNSUPPORTED;
            if (strncmp(problem, "mse ", 4) == 0) return 7;
            if (!aligned(output->data)) return fail(message, capacity, "output not aligned");
            for (size_t i = 0; i < input_count; i++)
                if (!aligned(inputs[i].data)) return fail(message, capacity, "input not aligned");
            if (strcmp(direction, "fwd") != 0) {
                for (size_t i = 0; i <= output->count; i++) output->data[i] = 0.0f; /* one too many */
                return KERNELCHECK_OK;
            }
            size_t count = 1;
            for (size_t j = 0; j < inputs[0].rank; j++) count *= (size_t)inputs[0].shape[j];
            if (input_count != 1 || strcmp(inputs[0].role, "x") != 0 || strcmp(output->role, "y") != 0
                || count != output->count || output->rank != inputs[0].rank)
                return fail(message, capacity, "unexpected roles or shapes");
            for (size_t i = 0; i < count; i++) output->data[i] = inputs[0].data[i] > 0 ? inputs[0].data[i] : 0.0f;
            return KERNELCHECK_OK;
        }
        """

    /// The built `kernelcheck` binary (beside the test bundle, or in .build/debug).
    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("kernelcheck").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return TestSupport.path(".build/debug/kernelcheck")
    }

    /// Runs `kernelcheck arguments` in `directory` (at most 120 s).
    static func kernelcheck(_ arguments: [String], in directory: URL) throws -> ChildProcess.Result {
        try ChildProcess.run(binary, arguments, directory: directory.path, timeout: 120)
    }

    /// Runs `command` with `/bin/sh -c` in `directory` (at most 120 s).
    static func shell(_ command: String, in directory: URL) throws -> ChildProcess.Result {
        try ChildProcess.run("/bin/sh", ["-c", command], directory: directory.path, timeout: 120)
    }
}
