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
