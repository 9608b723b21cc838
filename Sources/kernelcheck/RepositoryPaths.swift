import Foundation

/// Where the repository's `fixtures/` and `tools/` are: the current directory when it holds
/// `fixtures/manifest.txt` (the usual `swift run` from the checkout), else the checkout this
/// binary was built from, else the environment variable KERNELCHECK_ROOT.
enum RepositoryPaths {
    static var root: String {
        if let env = ProcessInfo.processInfo.environment["KERNELCHECK_ROOT"] { return env }
        let cwd = FileManager.default.currentDirectoryPath
        if FileManager.default.fileExists(atPath: cwd + "/fixtures/manifest.txt") { return cwd }
        // #filePath = <root>/Sources/kernelcheck/RepositoryPaths.swift
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
    static var fixtures: String { root + "/fixtures" }
    static var manifest: String { fixtures + "/manifest.txt" }
    static var oracleScript: String { root + "/tools/oracle.py" }
}
