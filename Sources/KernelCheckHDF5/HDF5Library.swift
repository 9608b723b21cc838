import CHDF5
import Foundation

/// Process-wide access to libhdf5.
///
/// The installed libhdf5 is the serial build, which is not thread-safe: two threads inside
/// the library at once corrupt its global state. Every C call of this module therefore runs
/// inside `HDF5Library.withLock`, which holds one global recursive lock (recursive because a
/// Swift object released while the lock is held may close its own HDF5 handle in `deinit`).
enum HDF5Library {
    private static let lock = NSRecursiveLock()

    /// Before libhdf5's first call: no `atexit` cleanup. Every file is closed explicitly; a
    /// file whose close failed (a full disk) stays half-closed inside libhdf5, and the
    /// cleanup's second attempt to close it dereferenced freed state (SIGSEGV at exit).
    private static let noCleanupAtExit: Void = { _ = H5dont_atexit() }()

    /// Runs `body` holding the global HDF5 lock, with HDF5's automatic error printing turned
    /// off (failures become `HDF5Error` values instead of text on stderr).
    static func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = noCleanupAtExit
        // Cheap, and re-applied on every entry because thread-safe HDF5 builds keep this
        // setting per thread.
        H5Eset_auto2(kc_h5e_default(), nil, nil)
        return try body()
    }

    /// HDF5's current error stack as one line ("H5Fopen: unable to open file; …"), or a
    /// fallback text when the stack is empty. Call it right after the failing C call, before
    /// any other HDF5 call clears the stack.
    static func errorStackText(fallback: String = "HDF5 reported an error") -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = buffer.withUnsafeMutableBufferPointer { kc_error_stack_text($0.baseAddress, $0.count) }
        guard length > 0 else { return fallback }
        let bytes = buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }
        return concise(String(decoding: bytes, as: UTF8.self))
    }

    /// A libhdf5 error stack cut to what a reader acts on: the outermost call's message, the
    /// operating system's error when a read or write failed ("No space left on device"), and
    /// the innermost message. A full-disk close printed twenty entries (1,900 characters).
    static func concise(_ stack: String) -> String {
        let entries = stack.components(separatedBy: "; ").map { $0.replacingOccurrences(of: "\n", with: " ") }
        var kept = [entries[0]]
        if let os = stack.range(of: "error message = '"),
            let end = stack[os.upperBound...].firstIndex(of: "'")
        {
            kept.append("operating system: " + stack[os.upperBound..<end])
        } else if entries.count > 1 {
            kept.append(entries[entries.count - 1])
        }
        return kept.joined(separator: "; ") + (entries.count > 2 ? " (\(entries.count) HDF5 error entries)" : "")
    }

    /// Object paths are absolute inside the file: "a/b", "/a/b" and "/a//b/" all mean "/a/b";
    /// "" and "/" mean the root group.
    static func normalize(_ objectPath: String) -> String {
        "/" + components(objectPath).joined(separator: "/")
    }

    /// The non-empty components of an object path.
    static func components(_ objectPath: String) -> [String] {
        objectPath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    /// `child` appended to the group path `parent` (a `child` starting with "/" is absolute).
    static func join(_ parent: String, _ child: String) -> String {
        child.hasPrefix("/") ? normalize(child) : normalize(parent + "/" + child)
    }
}
