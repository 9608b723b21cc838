#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writing to standard error without Foundation's FileHandle.
enum FileHandleOutput {
    /// `line` and a newline (unless it ends with one) on standard error.
    static func standardError(_ line: String) {
        standardErrorText(line.hasSuffix("\n") ? line : line + "\n")
    }

    /// `text` as it is on standard error (unbuffered: it arrives at once).
    static func standardErrorText(_ text: String) {
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}
