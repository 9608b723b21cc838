import Foundation
import Testing

@testable import KernelCheckHDF5

/// The read probe (`HDF5ReadProbe`): files that crash, hang or exhaust libhdf5 are refused
/// with a typed error *in this process* — these tests run the fuzzers' regression inputs
/// in-process, so a probe that missed one would take the test run down.
@Suite(.serialized) struct HDF5ReadProbeTests {
    /// A fuzz regression input (byte 0 is libFuzzer's mode byte) written out as an HDF5 file.
    static func regressionFile(_ name: String, in directory: URL) throws -> String {
        let input = try Data(
            contentsOf: TestSupport.repositoryRoot.appendingPathComponent("tools/fuzz-regressions/" + name))
        let path = directory.appendingPathComponent(name + ".h5").path
        #expect(FileManager.default.createFile(atPath: path, contents: input.dropFirst()))
        return path
    }

    /// Opens `path` and reads everything KernelCheck's fixture reader would: every group's
    /// members and attributes, every dataset.
    static func readEverything(_ path: String) throws(HDF5Error) {
        try HDF5HostileInputTests.readEverything(path, probing: true)
    }

    /// Each input that crashed libhdf5 in-process (SIGSEGV in `H5HL_protect`, `H5HG_read`; in a
    /// large process glibc may see the damage first and abort: SIGABRT) or
    /// made it allocate ≈ 10 GB now throws `cannotOpen` naming what happened, read in-process.
    ///
    /// `hdf5-vlen-heap-index-segv` is an out-of-bounds *read* in libhdf5 (`H5HG_read` indexing
    /// past a heap's object table): it faults when the bytes past the table are unmapped, as in a
    /// small process, and is then refused; in a large process (this test run) the read can land
    /// in mapped memory, return garbage and end as an ordinary typed error. Either way: no crash.
    @Test(arguments: [
        ("hdf5-local-heap-symbol-table-segv", "libhdf5 crashed reading it ("),
        ("hdf5-vlen-heap-index-segv", "libhdf5 crashed reading it (|any"),
        ("hdf5-vlen-length-memory-blowup", "needs more memory than the budget allows"),
        // Rejected earlier, by the global-heap check, before the probe runs.
        ("hdf5-global-heap-object-overrun-segv", "global heap collection"),
        ("hdf5-global-heap-zero-free-space-hang", "free-space object of size 0"),
    ])
    func regressionInputsAreRefusedInProcess(_ name: String, _ reason: String) throws {
        let directory = try TestSupport.makeScratchDirectory("probe")
        defer { TestSupport.removeScratch(directory) }
        let path = try Self.regressionFile(name, in: directory)
        let started = Date()
        let refusal = reason.replacingOccurrences(of: "|any", with: "")
        #expect {
            try Self.readEverything(path)
        } throws: { error in
            guard let error = error as? HDF5Error, error.file == path else { return false }
            if case .cannotOpen(_, let why) = error, why.hasPrefix("corrupt file: "), why.contains(refusal) {
                return true
            }
            return reason.hasSuffix("|any")
        }
        // The memory blow-up used to take ≈ 15 s; refused, it takes well under a second.
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// The probe's own outcomes, on files whose behaviour is known.
    @Test func outcomes() throws {
        let directory = try TestSupport.makeScratchDirectory("probe-outcomes")
        defer { TestSupport.removeScratch(directory) }
        // An intact file (the committed h5py sample) is readable.
        #expect(HDF5Library.withLock { HDF5ReadProbe.probe(TestSupport.committedSample) } == .readable)
        // A truncated one is a libhdf5 error the caller meets itself: `open` still says why.
        let original = try Data(contentsOf: URL(fileURLWithPath: TestSupport.committedSample))
        let truncated = directory.appendingPathComponent("truncated.h5").path
        #expect(FileManager.default.createFile(atPath: truncated, contents: original.prefix(original.count / 2)))
        let outcome = HDF5Library.withLock { HDF5ReadProbe.probe(truncated) }
        guard case .libraryError(let text) = outcome else {
            Issue.record("truncated file: \(outcome)")
            return
        }
        #expect(text.contains("truncated file"), "\(text)")
        #expect(outcome.refusal == nil)
        #expect {
            try HDF5File.open(truncated)
        } throws: { error in
            guard case .cannotOpen(_, let why)? = error as? HDF5Error else { return false }
            return why.contains("truncated file") && !why.hasPrefix("corrupt file")
        }
    }

    /// A file on which libhdf5 loops forever (a zero-size global-heap free-space object; `open`
    /// refuses it earlier, so the probe is called directly): the child is killed at the timeout.
    @Test func hangingChildIsKilledAtTheTimeout() throws {
        let directory = try TestSupport.makeScratchDirectory("probe-hang")
        defer { TestSupport.removeScratch(directory) }
        let path = try Self.regressionFile("hdf5-global-heap-zero-free-space-hang", in: directory)
        let saved = HDF5ReadProbe.timeout
        HDF5ReadProbe.timeout = 1
        defer { HDF5ReadProbe.timeout = saved }
        let started = Date()
        let outcome = HDF5Library.withLock { HDF5ReadProbe.probe(path) }
        let elapsed = Date().timeIntervalSince(started)
        #expect(outcome == .timedOut(seconds: 1))
        #expect(outcome.refusal?.contains("did not finish reading it within 1 s") == true)
        #expect(elapsed >= 1 && elapsed < 5, "\(elapsed) s")
    }
}
