import ArgumentParser
import KernelCheckHDF5

#if canImport(Glibc)
    // stdout is a C global: setting its buffering once, before any output, is safe.
    @preconcurrency import Glibc
#endif

// A corrupt file that crashes libhdf5 itself becomes one line and exit 2, like any bad input.
HDF5CrashGuard.install()

// Line-buffered standard output even into a pipe (`kernelcheck check | tee log` shows each
// line as it is printed, not in 4 KiB blocks), and unbuffered Python children (the oracle,
// the benchmark peers) so that their lines arrive as they are written too.
setvbuf(stdout, nil, _IOLBF, 0)
setenv("PYTHONUNBUFFERED", "1", 1)

// ArgumentParser exits 64 on usage errors; KernelCheck promises 2 for any bad input or usage
// and 1 only for a verification that ran and failed, so errors are mapped here.
do {
    for warning in try EnvironmentSettings.check() { FileHandleOutput.standardError(warning) }
    var command = try KernelCheckCommand.parseAsRoot()
    try command.run()
} catch let failure as VerificationFailed {
    FileHandleOutput.standardError("kernelcheck: \(failure)")
    exit(1)
} catch let code as ExitCode {
    exit(code.rawValue)
} catch let bad as BadInput {
    FileHandleOutput.standardError("kernelcheck: error: \(bad)")
    exit(2)
} catch {
    let code = KernelCheckCommand.exitCode(for: error)
    if code == .success {
        // --help, --version: ArgumentParser prints them through `fullMessage`.
        print(KernelCheckCommand.fullMessage(for: error))
        exit(0)
    }
    let message = KernelCheckCommand.fullMessage(for: error)
    if message.hasPrefix("Error: "), !message.contains("\n") {
        // An option's validation (OptionValidation.swift): one line, like every bad input.
        FileHandleOutput.standardError("kernelcheck: error: " + message.dropFirst("Error: ".count))
    } else {
        FileHandleOutput.standardError(message.isEmpty ? "kernelcheck: \(error)" : message)
    }
    exit(2)
}
