#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writing to standard error without Foundation's FileHandle.
enum FileHandleOutput {
    static func standardError(_ line: String) {
        let text = line.hasSuffix("\n") ? line : line + "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    /// True when standard output is a terminal (progress bars only then).
    static var stdoutIsTerminal: Bool { isatty(1) != 0 }
}
