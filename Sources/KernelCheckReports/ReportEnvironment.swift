import Foundation

/// The machine and build a report was produced on.
public struct ReportEnvironment: Codable, Sendable, Equatable {
    /// `model name` from /proc/cpuinfo (nil where there is none).
    public var cpuModel: String?
    public var cores: Int
    /// `swift --version`'s first line, else the compiler version this binary was built with.
    public var toolchain: String
    /// PRETTY_NAME from /etc/os-release and the kernel version.
    public var os: String
    /// `git rev-parse HEAD` of the working directory, else $GITHUB_SHA.
    public var gitCommit: String?

    public init(cpuModel: String?, cores: Int, toolchain: String, os: String, gitCommit: String?) {
        self.cpuModel = cpuModel; self.cores = cores; self.toolchain = toolchain; self.os = os;
        self.gitCommit = gitCommit
    }

    /// Looks everything up on this machine (a few milliseconds; each probe may come back empty).
    public static func current() -> ReportEnvironment {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).flatMap { text in
            text.split(separator: "\n").first { $0.hasPrefix("model name") }
                .flatMap { $0.split(separator: ":", maxSplits: 1).last }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let release = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)).flatMap { text in
            text.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
                .map {
                    String($0.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
        }
        var names = utsname()
        uname(&names)
        func field<T>(_ tuple: T) -> String {
            withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let kernel = "\(field(names.sysname)) \(field(names.release)) \(field(names.machine))"
        let os = [release, kernel].compactMap { $0 }.joined(separator: ", ")
        let toolchain = run("swift", ["--version"])?.split(separator: "\n").first.map(String.init) ?? compiledWith
        let commit = run("git", ["rev-parse", "HEAD"]) ?? ProcessInfo.processInfo.environment["GITHUB_SHA"]
        return ReportEnvironment(
            cpuModel: cpu, cores: ProcessInfo.processInfo.activeProcessorCount, toolchain: toolchain,
            os: os, gitCommit: commit)
    }

    /// The compiler that built this binary, to the minor version we can test for.
    static var compiledWith: String {
        #if compiler(>=6.3)
            return "built with Swift ≥ 6.3"
        #elseif compiler(>=6.2)
            return "built with Swift 6.2"
        #elseif compiler(>=6.1)
            return "built with Swift 6.1"
        #else
            return "built with Swift < 6.1"
        #endif
    }

    /// Trimmed standard output of a program found on PATH, nil on any failure.
    static func run(_ program: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
