import Foundation
import KernelCheckFixtures
import KernelCheckHDF5
import KernelCheckProblems

// libFuzzer entry point for KernelCheck's two parsers of untrusted input.
//
// The first byte selects the parser, the rest is its input:
//   even first byte → `Problem.parse` on the bytes as UTF-8 text (invalid UTF-8 is repaired,
//                     as `String(decoding:)` does for any text read from a file);
//   odd first byte  → the bytes are written to a scratch file and read with `FixtureFile.read`.
// Every input must either succeed or throw the module's typed error; anything else (a trap,
// an overflow, a crash inside libhdf5 that the read probe let through) is what libFuzzer
// reports. Parsed problems must also
// round-trip (`parse(p.description) == p`) and answer every question the CLI asks of them.
//
// Build and run: tools/fuzz.sh. A plain build makes the target a replayer (FuzzMain.swift).

/// Scratch file the HDF5 mode writes each input to (one per process).
private let scratchPath: String = {
    let directory = ProcessInfo.processInfo.environment["KERNELCHECK_FUZZ_TMP"] ?? NSTemporaryDirectory()
    return directory + "/kernelcheck-fuzz-\(getpid()).h5"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = outcome(UnsafeBufferPointer(start: data, count: size))
    return 0
}

/// Runs one input and names what happened: `parsed`, `read N cases`, or the typed error's
/// type and case (`ProblemError.malformed`, `FixtureError.hdf5(HDF5Error.cannotOpen)`).
func outcome(_ input: UnsafeBufferPointer<UInt8>) -> String {
    guard let first = input.first else { return "empty" }
    let body = UnsafeBufferPointer(rebasing: input[1...])
    return first & 1 == 0 ? problemOutcome(String(decoding: body, as: UTF8.self)) : fixtureFileOutcome(body)
}

/// Parses `text`; a parsed problem must round-trip and describe itself without trapping.
func problemOutcome(_ text: String) -> String {
    let problem: Problem
    do { problem = try Problem.parse(text) } catch { return errorClass(error) }
    let again: Problem
    do { again = try Problem.parse(problem.description) } catch {
        fatalError("canonical form of '\(text)' does not parse: '\(problem.description)': \(error)")
    }
    guard again == problem else {
        fatalError("'\(text)' → '\(problem.description)' → '\(again.description)' (round trip changed the value)")
    }
    exerciseDescriptor(problem)
    return "parsed"
}

/// Everything `kernelcheck problem` prints about a problem.
func exerciseDescriptor(_ problem: Problem) {
    let d = problem.descriptor
    for direction in d.directions {
        _ = d.inputs(for: direction)
        _ = d.output(for: direction)
        _ = d.flops(for: direction)
        _ = d.accumulationLength(for: direction)
    }
}

/// Reads the bytes as a fixture file: success or a `FixtureError`, never a crash.
func fixtureFileOutcome(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot write the scratch file \(scratchPath)") }
    var written = 0
    while written < bytes.count {
        let n = write(fd, bytes.baseAddress! + written, bytes.count - written)
        guard n > 0 else { fatalError("short write to \(scratchPath)") }
        written += n
    }
    close(fd)
    defer { unlink(scratchPath) }
    do {
        let cases = try FixtureFile.read(scratchPath)
        for c in cases { exerciseDescriptor(c.problem) }
        return "read \(cases.count) cases"
    } catch {
        guard !error.description.isEmpty else { fatalError("empty error message") }
        return errorClass(error) + (corruptionCheck(error.description).map { " [\($0)]" } ?? "")
    }
}

/// Which safety net refused a corrupt file (`HDF5GlobalHeapCheck` or `HDF5ReadProbe`), so
/// fuzz tallies show what each one catches; `nil` for every other error.
func corruptionCheck(_ message: String) -> String? {
    guard let range = message.range(of: "corrupt file: ") else { return nil }
    let reason = message[range.upperBound...]
    if reason.hasPrefix("global heap") { return "global-heap check" }
    if reason.contains("libhdf5 crashed") { return "probe: libhdf5 crashed" }
    if reason.contains("did not finish") { return "probe: libhdf5 hung" }
    if reason.contains("more memory") { return "probe: out of memory" }
    return "probe: " + reason.prefix(40)
}

/// `FixtureError.hdf5(HDF5Error.cannotOpen)`: the error's type and case, one level of nesting.
func errorClass(_ error: any Error) -> String {
    func name(_ value: Any) -> String {
        let type = String(describing: Swift.type(of: value))
        guard let child = Mirror(reflecting: value).children.first, let label = child.label else { return type }
        if let inner = child.value as? any Error { return "\(type).\(label)(\(name(inner)))" }
        return "\(type).\(label)"
    }
    return name(error)
}
