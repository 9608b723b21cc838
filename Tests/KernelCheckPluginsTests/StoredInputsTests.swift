import Foundation
import KernelCheckPlugins
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckVerification
import Testing

/// Narrow-typed inputs for plug-ins, backward compatible: a worker whose handshake says
/// `"stored_inputs": true` receives a `dt=bf16` problem's inputs as bf16 bit patterns (2 bytes
/// each, `dtype` in the header); one that does not (every protocol-1 worker) still receives
/// float32. Both compute the same matmul and round the output to bf16.
@Suite struct StoredInputsTests {
    /// `stored.py MODE`: matmul fwd in plain Python; MODE `stored` asks for stored inputs and
    /// insists on bf16 patterns, `legacy` does not ask and insists on float32.
    static let worker = #"""
        import json, struct, sys
        mode = sys.argv[1]
        inp, out = sys.stdin.buffer, sys.stdout.buffer
        inp.readline()
        hello = {"kernelcheck_protocol": 1, "name": "stored-" + mode, "honours_threads": True}
        if mode == "stored":
            hello["stored_inputs"] = True
        out.write(json.dumps(hello).encode() + b"\n"); out.flush()
        def bf16_round(v):  # nearest bf16, ties to even, of the float32 nearest to v
            bits = struct.unpack("<I", struct.pack("<f", v))[0]
            bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
            return struct.unpack("<f", struct.pack("<I", bits))[0]
        for line in iter(inp.readline, b""):
            h = json.loads(line)
            values = {}
            for t in h["inputs"]:
                raw = inp.read(t["bytes"])
                n = 1
                for s in t["shape"]:
                    n *= s
                if mode == "stored":
                    assert t.get("dtype") == "bf16" and len(raw) == 2 * n, t
                    values[t["role"]] = [struct.unpack("<f", b"\0\0" + raw[2*i:2*i+2])[0] for i in range(n)]
                else:
                    assert "dtype" not in t and len(raw) == 4 * n, t
                    values[t["role"]] = list(struct.unpack("<%df" % n, raw))
            (m, k), (_, n) = h["inputs"][0]["shape"], h["inputs"][1]["shape"]
            a, b = values["a"], values["b"]
            y = [bf16_round(sum(a[i*k+p] * b[p*n+j] for p in range(k))) for i in range(m) for j in range(n)]
            payload = struct.pack("<%df" % len(y), *y)
            out.write(json.dumps({"id": h["id"], "status": "ok", "bytes": len(payload)}).encode() + b"\n" + payload)
            out.flush()
        """#

    @Test(arguments: ["stored", "legacy"])
    func aBF16MatmulPassesWithAndWithoutStoredInputs(_ mode: String) throws {
        let dir = try TestSupport.makeScratchDirectory("stored-workers")
        defer { TestSupport.removeScratch(dir) }
        let script = dir.appendingPathComponent("stored.py")
        try Self.worker.write(to: script, atomically: true, encoding: .utf8)
        let impl = try WorkerProcessImplementation(command: "python3 '\(script.path)' \(mode)")
        let problem = try Problem.parse("matmul a=3x5 b=5x4 dt=bf16")
        for checkMode in [ComparisonMode.exact, .bound] {
            let o = CaseChecker(implementation: impl, determinism: false).check(problem, .fwd, seed: 4, mode: checkMode)
            #expect(o.status == .passed, "\(mode) \(checkMode): \(o.summary)")
        }
    }

    /// A C plug-in with both entry points: `kernelcheck_run` refuses narrow problems (error 2),
    /// `kernelcheck_run_stored` computes matmul from the bf16 patterns alone.
    static let library = """
        #include "kernelcheck.h"
        #include <stdint.h>
        #include <stdio.h>
        #include <string.h>
        int kernelcheck_abi_version(void) { return KERNELCHECK_ABI_VERSION; }
        int kernelcheck_supports(const char *problem, const char *direction) {
            return strncmp(problem, "matmul ", 7) == 0 && strcmp(direction, "fwd") == 0;
        }
        int kernelcheck_run(const char *problem, const char *direction, const kernelcheck_tensor *inputs,
                            size_t input_count, const kernelcheck_output *output, int threads, char *message,
                            size_t capacity) {
            (void)direction; (void)inputs; (void)input_count; (void)output; (void)threads;
            snprintf(message, capacity, "float32 entry point called for '%s'", problem);
            return KERNELCHECK_ERROR;
        }
        static float widen(uint16_t bits) { uint32_t w = (uint32_t)bits << 16; float f; memcpy(&f, &w, 4); return f; }
        static float to_bf16(float v) {  /* nearest bf16, ties to even */
            uint32_t b; memcpy(&b, &v, 4); b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000u; memcpy(&v, &b, 4); return v;
        }
        int kernelcheck_run_stored(const char *problem, const char *direction, const kernelcheck_tensor *inputs,
                                   const void *const *stored, const char *dtype, size_t input_count,
                                   const kernelcheck_output *output, int threads, char *message, size_t capacity) {
            (void)problem; (void)direction; (void)threads;
            if (strcmp(dtype, "bf16") != 0 || input_count != 2) {
                snprintf(message, capacity, "unexpected dtype %s", dtype);
                return KERNELCHECK_ERROR;
            }
            const uint16_t *a = stored[0], *b = stored[1];
            int64_t m = inputs[0].shape[0], k = inputs[0].shape[1], n = inputs[1].shape[1];
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++) {
                    float s = 0;
                    for (int64_t p = 0; p < k; p++) s += widen(a[i * k + p]) * widen(b[p * n + j]);
                    output->data[i * n + j] = to_bf16(s);
                }
            return KERNELCHECK_OK;
        }
        """

    @Test(.enabled(if: SharedLibraryBuilds.compilerAvailable, SharedLibraryBuilds.noCompiler))
    func aLibraryWithTheStoredEntryPointGetsBitPatterns() throws {
        let dir = try TestSupport.makeScratchDirectory("stored-library")
        defer { TestSupport.removeScratch(dir) }
        let path = try SharedLibraryBuilds.build(code: Self.library, name: "stored", in: dir)
        let impl = try SharedLibraryImplementation(path: path)
        let checker = CaseChecker(implementation: impl, determinism: false)
        let narrow = try Problem.parse("matmul a=3x5 b=5x4 dt=bf16")
        for mode in [ComparisonMode.exact, .bound] {
            let o = checker.check(narrow, .fwd, seed: 4, mode: mode)
            #expect(o.status == .passed, "\(mode): \(o.summary)")
        }
        // A float32 problem still goes to kernelcheck_run (which this library refuses).
        let wide = checker.check(try Problem.parse("matmul a=3x5 b=5x4"), .fwd, seed: 4, mode: .exact)
        #expect(wide.status == .failed && wide.summary.contains("float32 entry point called"), "\(wide.summary)")
    }
}
