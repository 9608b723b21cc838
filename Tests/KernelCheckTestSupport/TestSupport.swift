import Foundation

/// The repository, scratch directories and `python3`, for tests that read committed files,
/// write temporary ones or talk to h5py.
public enum TestSupport {
    /// Repository root: this file is `<root>/Tests/KernelCheckTestSupport/TestSupport.swift`.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The path of `relative` (e.g. `tools/h5py_roundtrip.py`) inside the repository.
    public static func path(_ relative: String) -> String { repositoryRoot.appendingPathComponent(relative).path }

    /// A committed fixture file, `fixtures/<name>`.
    public static func fixture(_ name: String) -> String { path("fixtures/" + name) }

    /// A fresh, empty directory for one test (removed by `removeScratch`).
    public static func makeScratchDirectory(_ label: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kernelcheck-\(label)-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Removes a directory made by `makeScratchDirectory`.
    public static func removeScratch(_ directory: URL) {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `python3 <arguments>` and returns its exit status and combined output.
    public static func runPython(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Whether `python3` with h5py and NumPy can be run (checked once).
    public static let h5pyAvailable: Bool = {
        guard let result = try? runPython(["-c", "import h5py, numpy"]) else { return false }
        return result.status == 0
    }()

    /// Writes the hostile file `kind` of `tools/craft_hostile_inputs.py` (with h5py; `count`
    /// sizes the kinds that repeat something) into a fresh scratch directory and returns its
    /// path, or `nil` when the script fails. Remove it with `removeScratch(scratch(of:))`.
    public static func craftHostile(_ kind: String, count: Int? = nil) throws -> String? {
        let directory = try makeScratchDirectory("hostile-\(kind)")
        let file = directory.appendingPathComponent(kind + ".h5").path
        let result = try runPython(
            [path("tools/craft_hostile_inputs.py"), kind, file] + (count.map { ["\($0)"] } ?? []))
        guard result.status == 0 else {
            removeScratch(directory)
            return nil
        }
        return file
    }

    /// The scratch directory a file of `craftHostile` lies in.
    public static func scratch(of file: String) -> URL { URL(fileURLWithPath: file).deletingLastPathComponent() }
}
