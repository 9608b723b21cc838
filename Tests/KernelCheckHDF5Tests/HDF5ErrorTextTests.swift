import Foundation
import KernelCheckTestSupport
import Testing

@testable import KernelCheckHDF5

/// libhdf5's error stacks become short messages: a full disk during `H5Fclose` produced 32
/// entries (1,900 characters) of which a reader needs the first and the OS error.
@Suite struct HDF5ErrorTextTests {
    @Test func fullDiskStackKeepsTheCallAndTheOperatingSystemError() {
        let stack =
            "H5F__close_cb: can't close file; H5F_try_close: problems closing file; H5F__dest: problems closing file; "
            + "H5FD__sec2_write: file write failed: time = Sun Dec  6 20:07:28 2026\n, filename = '/mnt/small/.conv.h5.tmp-1', "
            + "file descriptor = 3, errno = 28, error message = 'No space left on device', buf = 0x5573f0db14d0"
        #expect(
            HDF5Library.concise(stack)
                == "H5F__close_cb: can't close file; operating system: No space left on device (4 HDF5 error entries)")
    }

    @Test func shortStacksAreKept() {
        #expect(HDF5Library.concise("H5Fopen: unable to open file") == "H5Fopen: unable to open file")
        #expect(
            HDF5Library.concise("H5Dread: can't read data; H5D__read: oops")
                == "H5Dread: can't read data; H5D__read: oops")
    }
}

/// Writing the same content twice gives the same bytes: no modification times in object
/// headers (a regenerated fixture file differed from the last in 54 bytes with nothing changed).
@Suite struct HDF5ReproducibleWriteTests {
    static func write(_ path: String) throws {
        let file = try HDF5File.create(path)
        _ = try file.createGroup("/relu shape=3")
        try file.write([Float(1), -2, 3], shape: [3], to: "/relu shape=3/x")
        try file.setAttribute("problem", .string("relu shape=3"), on: "/relu shape=3")
        try file.close()
    }

    @Test func sameContentSameBytes() throws {
        let dir = try TestSupport.makeScratchDirectory("reproducible")
        defer { TestSupport.removeScratch(dir) }
        let a = dir.appendingPathComponent("a.h5"), b = dir.appendingPathComponent("b.h5")
        try Self.write(a.path)
        // Object header times have a resolution of one second.
        Thread.sleep(forTimeInterval: 1.1)
        try Self.write(b.path)
        #expect(try Data(contentsOf: a) == Data(contentsOf: b))
    }
}

/// An atomic write removes the temporaries that killed writers of the same file left behind
/// (50 SIGKILLed `fixtures regenerate` runs left 49), and only those.
@Suite struct HDF5StaleTemporaryTests {
    @Test func deadWritersTemporariesAreSwept() throws {
        let dir = try TestSupport.makeScratchDirectory("stale")
        defer { TestSupport.removeScratch(dir) }
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = dir.appendingPathComponent(".x.h5.tmp-\(finished.processIdentifier)-1").path
        let mine = dir.appendingPathComponent(".x.h5.tmp-\(getpid())-99").path
        let other = dir.appendingPathComponent(".y.h5.tmp-\(finished.processIdentifier)-1").path
        for path in [dead, mine, other] { #expect(FileManager.default.createFile(atPath: path, contents: Data())) }
        try HDF5File.writeAtomically(to: dir.appendingPathComponent("x.h5").path) { file in
            try file.write([Float(1)], shape: [1], to: "/v")
        }
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: mine))  // a live writer's (this process)
        #expect(FileManager.default.fileExists(atPath: other))  // another file's
    }
}
