import Foundation
import Testing

@testable import KernelCheckFixtures

/// `fixtures regenerate` on a full disk printed the oracle's 25-line h5py traceback; its
/// failure is one line naming the exception and the operating system's reason.
@Suite struct OracleFailureTests {
    /// The tail of what `oracle.py fill` printed when /mnt/small (a 1.3 MB tmpfs) filled up.
    static let fullDiskTraceback = """
        Traceback (most recent call last):
          File "/work/main/tools/oracle.py", line 89, in <module>
            sys.exit(main(sys.argv[1:]))
          File "h5py/h5f.pyx", line 359, in h5py.h5f.FileID._close_open_objects
        RuntimeError: Disable slist on flush dest failure failed (file write failed: time = Sun Dec  6 20:08:12 2026
        , filename = '/mnt/small/.conv.h5.tmp-20106-1', file descriptor = 3, errno = 28, error message = 'No space left on device', buf = 0x561622a7c858, total write size = 2008, bytes this sub-write = 2008, offset = 1377660)
        """

    @Test func fullDiskTracebackBecomesOneLine() throws {
        let line = Oracle.oneLine(Self.fullDiskTraceback)
        #expect(!line.contains("\n"))
        #expect(
            line.hasPrefix(
                "RuntimeError: Disable slist on flush dest failure failed (No space left on device); full output in "),
            "\(line)")
        let log = String(line[line.range(of: "full output in ")!.upperBound...])
        defer { try? FileManager.default.removeItem(atPath: log) }
        #expect(try String(contentsOfFile: log, encoding: .utf8) == Self.fullDiskTraceback)
    }

    @Test func singleLineMessageIsKeptWhole() {
        #expect(Oracle.oneLine("ValueError: bad manifest entry 'relu'") == "ValueError: bad manifest entry 'relu'")
    }
}
