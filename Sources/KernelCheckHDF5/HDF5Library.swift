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

    /// Runs `body` holding the global HDF5 lock, with HDF5's automatic error printing turned
    /// off (failures become `HDF5Error` values instead of text on stderr).
    static func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        // Cheap, and re-applied on every entry because thread-safe HDF5 builds keep this
        // setting per thread.
        H5Eset_auto2(kc_h5e_default(), nil, nil)
        return try body()
    }

    /// HDF5's current error stack as one line ("H5Fopen: unable to open file; …"), or a
    /// fallback text when the stack is empty. Call it right after the failing C call, before
    /// any other HDF5 call clears the stack.
    static func errorStackText(fallback: String = "HDF5 reported an error") -> String {
        var buffer = [CChar](repeating: 0, count: 2048)
        let length = buffer.withUnsafeMutableBufferPointer { kc_error_stack_text($0.baseAddress, $0.count) }
        guard length > 0 else { return fallback }
        let bytes = buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
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
