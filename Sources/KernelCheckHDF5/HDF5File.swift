import CHDF5
import Foundation
import KernelCheckCore

/// An open HDF5 file.
///
/// Objects inside the file are addressed by absolute paths ("/case/x"; a missing leading
/// slash is added, repeated slashes collapse). Every method takes the module's global HDF5
/// lock, so one `HDF5File` may be shared between threads and several files may be used
/// concurrently (calls are serialized, never interleaved inside libhdf5).
///
/// The file closes on `close()` or, failing that, when the last reference goes away. Any use
/// after `close()` throws `HDF5Error.fileClosed`. libhdf5 refuses to open a file that is
/// already open in this process with a different access mode.
public final class HDF5File: @unchecked Sendable {
    /// How an existing file is opened.
    public enum Mode: Sendable, Equatable {
        /// Reading only; every write throws `writeFailed`.
        case readOnly
        /// Reading and writing.
        case readWrite
    }

    /// The file-system path the file was opened or created with.
    public let path: String
    /// `.readWrite` for created files.
    public let mode: Mode
    /// The HDF5 file identifier; `nil` once closed. Guarded by the global HDF5 lock.
    private var fileID: hid_t?

    private init(path: String, mode: Mode, fileID: hid_t) {
        self.path = path
        self.mode = mode
        self.fileID = fileID
    }

    /// Creates a new, empty file at `path`, truncating any existing file there.
    public static func create(_ path: String) throws(HDF5Error) -> HDF5File {
        try HDF5Library.withLock { () throws(HDF5Error) -> HDF5File in
            let fapl = fileAccessProperties()
            defer { H5Pclose(fapl) }
            let id = H5Fcreate(path, kc_h5f_acc_trunc(), kc_h5p_default(), fapl)
            guard id >= 0 else {
                throw .cannotCreate(file: path, reason: HDF5Library.errorStackText())
            }
            return HDF5File(path: path, mode: .readWrite, fileID: id)
        }
    }

    /// Opens an existing file. Throws `fileNotFound` when nothing is at `path`, `notHDF5`
    /// when the file lacks an HDF5 signature (random bytes, a text file, an empty file), and
    /// `cannotOpen` with HDF5's reason otherwise (a truncated file, for example).
    public static func open(_ path: String, mode: Mode = .readOnly) throws(HDF5Error) -> HDF5File {
        try open(path, mode: mode, probing: HDF5ReadProbe.isEnabled)
    }

    /// `open`, with the read probe on or off (tests of the in-process reader's own refusals).
    static func open(_ path: String, mode: Mode, probing: Bool) throws(HDF5Error) -> HDF5File {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotFound(file: path)
        }
        guard !isDirectory.boolValue else {
            throw .cannotOpen(file: path, reason: "it is a directory")
        }
        // libhdf5's signature probe (H5Fis_hdf5) blocks forever reading a named pipe with no
        // writer; only regular files (or links to them) are HDF5 files here.
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw .cannotOpen(file: path, reason: "not a regular file")
        }
        return try HDF5Library.withLock { () throws(HDF5Error) -> HDF5File in
            try HDF5CrashGuard.whileInside(path) { () throws(HDF5Error) -> HDF5File in
                let signature = kc_file_is_hdf5(path)
                if signature == 0 { throw .notHDF5(file: path) }
                if signature < 0 {
                    throw .cannotOpen(file: path, reason: HDF5Library.errorStackText(fallback: "file cannot be read"))
                }
                try checkGlobalHeap(path)
                if probing { try HDF5ReadProbe.check(path) }
                let fapl = fileAccessProperties()
                defer { H5Pclose(fapl) }
                let flags = mode == .readOnly ? kc_h5f_acc_rdonly() : kc_h5f_acc_rdwr()
                let id = H5Fopen(path, flags, fapl)
                guard id >= 0 else {
                    throw .cannotOpen(file: path, reason: HDF5Library.errorStackText())
                }
                return HDF5File(path: path, mode: mode, fileID: id)
            }
        }
    }

    /// Rejects a file whose global heap would crash or hang libhdf5 (`HDF5GlobalHeapCheck`).
    private static func checkGlobalHeap(_ path: String) throws(HDF5Error) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw .cannotOpen(file: path, reason: "reading it: \(error.localizedDescription)")
        }
        if let problem = data.withUnsafeBytes({ HDF5GlobalHeapCheck.problem(in: $0) }) {
            throw .cannotOpen(file: path, reason: "corrupt file: \(problem)")
        }
    }

    /// File access properties: strong close degree, so `H5Fclose` closes every object of the
    /// file and the bytes are on disk when `close()` returns (`writeAtomically` renames right
    /// after). Caller holds the lock.
    private static func fileAccessProperties() -> hid_t {
        let fapl = H5Pcreate(kc_h5p_file_access())
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG)
        return fapl
    }

    /// `true` until `close()` succeeds.
    public var isOpen: Bool {
        HDF5Library.withLock { fileID != nil }
    }

    /// Flushes and closes the file. Closing a closed file does nothing.
    public func close() throws(HDF5Error) {
        try HDF5Library.withLock { () throws(HDF5Error) in
            guard let id = fileID else { return }
            fileID = nil
            if H5Fclose(id) < 0 {
                throw .writeFailed(file: path, object: "/", reason: "closing the file: " + HDF5Library.errorStackText())
            }
        }
    }

    deinit {
        if let id = fileID {
            HDF5Library.withLock { _ = H5Fclose(id) }
        }
    }

    /// Runs `body` with the file identifier while holding the global HDF5 lock.
    func withFileID<T>(_ body: (hid_t) throws(HDF5Error) -> T) throws(HDF5Error) -> T {
        try HDF5Library.withLock { () throws(HDF5Error) -> T in
            guard let id = fileID else { throw .fileClosed(file: path) }
            return try HDF5CrashGuard.whileInside(path) { () throws(HDF5Error) -> T in try body(id) }
        }
    }

    /// Numbers temporary files so that concurrent atomic writes in one process never collide.
    /// Guarded by the global HDF5 lock.
    nonisolated(unsafe) private static var temporaryFileCounter = 0

    /// Writes a whole file so that readers see either the previous file or the complete new
    /// one, never a partial write.
    ///
    /// `body` fills a new file created at `.<name>.tmp-<pid>-<n>` in the target's directory
    /// (error messages from inside `body` name that temporary path). When `body` returns, the
    /// file is closed, synced to disk and renamed over `path` (`rename(2)` is atomic within a
    /// directory). If `body` or any step throws, the temporary file is removed, the previous
    /// file at `path` (if any) is left untouched, and the error is rethrown.
    public static func writeAtomically(to path: String, _ body: (HDF5File) throws -> Void) throws {
        let target = URL(fileURLWithPath: path)
        let counter = HDF5Library.withLock { () -> Int in
            temporaryFileCounter += 1
            return temporaryFileCounter
        }
        // Temporaries of writers that were killed before their rename (`fixtures regenerate`
        // interrupted 50 times left 49 behind) go first.
        StaleTemporaries.sweep(
            directory: target.deletingLastPathComponent().path, prefix: ".\(target.lastPathComponent).tmp-")
        let temporary = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())-\(counter)").path
        let file = try create(temporary)
        do {
            try body(file)
            try file.close()
            try syncToDisk(temporary, target: path)
            guard rename(temporary, path) == 0 else {
                throw HDF5Error.writeFailed(
                    file: path, object: "/",
                    reason: "renaming \(temporary) over it: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? file.close()
            unlink(temporary)
            throw error
        }
    }

    /// `fsync`s a closed file so that the rename never publishes a file whose data is still
    /// only in the page cache.
    private static func syncToDisk(_ temporary: String, target: String) throws(HDF5Error) {
        let descriptor = Foundation.open(temporary, O_RDONLY)
        guard descriptor >= 0 else {
            throw .writeFailed(
                file: target, object: "/",
                reason: "reopening \(temporary) to sync it: \(String(cString: strerror(errno)))")
        }
        defer { Foundation.close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw .writeFailed(
                file: target, object: "/", reason: "fsync of \(temporary): \(String(cString: strerror(errno)))")
        }
    }
}
