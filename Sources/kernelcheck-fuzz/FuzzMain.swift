import Foundation
import KernelCheckHDF5

/// The program's entry.
///
/// Built by tools/fuzz.sh (`-sanitize=fuzzer -DKERNELCHECK_LIBFUZZER`), it hands control to
/// libFuzzer's driver with `fuzz` as the callback; libFuzzer then parses its own flags
/// (`-max_total_time=60 corpus/ …`). SwiftPM renames an executable's `main` to
/// `kernelcheck_fuzz_main` so that tests can link it, which hides libFuzzer's own `main`;
/// calling `LLVMFuzzerRunDriver` from ours is the documented way around that.
///
/// In a plain build it replays saved inputs: `swift run kernelcheck-fuzz crash-<sha1> …` runs
/// `fuzz` on each file, so a crash found by the fuzzer reproduces in a debug build.
@main
enum FuzzMain {
    static func main() {
        #if KERNELCHECK_LIBFUZZER
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzz($0, size) } ?? 0 })
        #else
            replay(Array(CommandLine.arguments.dropFirst()))
        #endif
    }

    /// Runs each input file and prints `<outcome>\t<path>`, one line per input, flushed at
    /// once (a harness reading the output knows which input a crash belongs to). With
    /// `--guard`, a crash inside libhdf5 prints one line and exits 2 (`HDF5CrashGuard`) —
    /// what `kernelcheck` does; without it the crash is left intact for the debugger.
    static func replay(_ arguments: [String]) {
        var paths = arguments
        if paths.first == "--guard" {
            paths.removeFirst()
            HDF5CrashGuard.install(prefix: "kernelcheck-fuzz: error: ")
        }
        guard !paths.isEmpty else {
            FileHandle.standardError.write(
                Data("usage: kernelcheck-fuzz [--guard] INPUT... (replays fuzz inputs; see tools/fuzz.sh)\n".utf8))
            exit(2)
        }
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("kernelcheck-fuzz: cannot read \(path)\n".utf8))
                exit(2)
            }
            let bytes = [UInt8](data)
            // FileHandle writes at once (print would buffer when stdout is a pipe).
            FileHandle.standardOutput.write(Data("\(bytes.withUnsafeBufferPointer { outcome($0) })\t\(path)\n".utf8))
        }
    }
}

#if KERNELCHECK_LIBFUZZER
    /// libFuzzer's driver (compiler-rt `FuzzerInterface.h`):
    /// `int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *, size_t))`.
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt
#endif
