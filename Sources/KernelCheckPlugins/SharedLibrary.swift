#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A plug-in library loaded with `dlopen(RTLD_NOW | RTLD_LOCAL)`: the functions of
/// `include/kernelcheck.h`, looked up once and checked against the ABI version.
///
/// The library is never unloaded: its handle lives for the rest of the process, so the function
/// pointers stay valid and may be shared across threads (the fields never change after `init`,
/// hence `@unchecked Sendable`).
final class SharedLibrary: @unchecked Sendable {
    /// The version of `include/kernelcheck.h` this package speaks (`KERNELCHECK_ABI_VERSION`).
    static let abiVersion: Int32 = 1

    typealias VersionFunction = @convention(c) () -> Int32
    typealias NameFunction = @convention(c) () -> UnsafePointer<CChar>?
    typealias SupportsFunction = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>) -> Int32
    /// `kernelcheck_run(problem, direction, inputs, input_count, output, threads, message, capacity)`;
    /// `inputs` and `output` point at the C structs `CallArguments` lays out.
    typealias RunFunction =
        @convention(c) (
            UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer, UInt, UnsafeRawPointer, Int32,
            UnsafeMutablePointer<CChar>, UInt
        ) -> Int32

    /// `kernelcheck_run_stored(problem, direction, inputs, stored, dtype, input_count, output,
    /// threads, message, capacity)`: the optional entry point for narrow-typed inputs.
    typealias RunStoredFunction =
        @convention(c) (
            UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer, UnsafeRawPointer, UnsafePointer<CChar>, UInt,
            UnsafeRawPointer, Int32, UnsafeMutablePointer<CChar>, UInt
        ) -> Int32

    let supports: SupportsFunction
    let run: RunFunction
    /// The optional `kernelcheck_run_stored`, if the library exports it.
    let runStored: RunStoredFunction?
    /// What the optional `kernelcheck_name()` returned, if the library exports it.
    let displayName: String?

    /// Loads the library at `path` (a path without a `/` is taken relative to the working
    /// directory, not searched for on the library path) and looks up its functions.
    init(path: String) throws(PluginError) {
        guard access(path, F_OK) == 0 else { throw .libraryNotFound(path: path) }
        // dlopen searches the library path for a bare file name; the user named a file.
        let file = path.contains("/") ? path : "./" + path
        _ = dlerror()  // clear any earlier error
        guard let handle = dlopen(file, RTLD_NOW | RTLD_LOCAL) else {
            throw .libraryLoadFailed(path: path, reason: Self.lastError() ?? "dlopen failed")
        }
        func symbol<F>(_ name: String, as type: F.Type) throws(PluginError) -> F {
            guard let address = dlsym(handle, name) else { throw .missingSymbol(path: path, symbol: name) }
            return unsafeBitCast(address, to: type)
        }
        let version = try symbol("kernelcheck_abi_version", as: VersionFunction.self)()
        guard version == Self.abiVersion else {
            throw .abiVersionMismatch(path: path, found: Int(version), expected: Int(Self.abiVersion))
        }
        supports = try symbol("kernelcheck_supports", as: SupportsFunction.self)
        run = try symbol("kernelcheck_run", as: RunFunction.self)
        runStored = dlsym(handle, "kernelcheck_run_stored").map { unsafeBitCast($0, to: RunStoredFunction.self) }
        let name = dlsym(handle, "kernelcheck_name").map { unsafeBitCast($0, to: NameFunction.self) }
        displayName = name?().map { String(cString: $0) }
    }

    private static func lastError() -> String? { dlerror().map { String(cString: $0) } }
}
