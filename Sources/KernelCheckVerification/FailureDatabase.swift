import Foundation
import KernelCheckProblems

/// Failing problems remembered between runs of `kernelcheck check` (like hypothesis's
/// `.hypothesis/` example database): one text file per op family, `<directory>/<op>.txt`,
/// one failure per line,
///
///     <problem> | <direction> | seed=<n> | mode=<exact|bound> | impl=<name>
///
/// The next sweep of the same op replays these first; a line whose case passes is dropped.
/// Files are rewritten whole, atomically (temporary file in the same directory, then
/// rename(2)), so an interrupted run leaves the previous file; lines are unique per
/// (problem, direction, mode, implementation), the newest seed winning. Lines that do not
/// parse are kept as they are and reported, never silently lost.
public struct FailureDatabase: Sendable {
    /// The directory of the files, `.kernelcheck/failures` of the working directory by default.
    public var directory: String

    public static let defaultDirectory = ".kernelcheck/failures"

    public init(directory: String = FailureDatabase.defaultDirectory) { self.directory = directory }

    /// One remembered failure.
    public struct Entry: Hashable, Sendable {
        public var problem: String
        public var direction: Direction
        public var seed: UInt64
        /// The mode the inputs are drawn for (`--mode` of the replay).
        public var mode: ComparisonMode
        public var implementation: String

        public init(problem: String, direction: Direction, seed: UInt64, mode: ComparisonMode, implementation: String) {
            self.problem = problem
            self.direction = direction
            self.seed = seed
            self.mode = mode
            self.implementation = implementation
        }

        public init(_ outcome: CaseOutcome) {
            self.init(
                problem: outcome.problem, direction: outcome.direction, seed: outcome.seed, mode: outcome.replayMode,
                implementation: outcome.implementation)
        }

        /// The line in the file.
        public var line: String {
            "\(problem) | \(direction.rawValue) | seed=\(seed) | mode=\(mode.rawValue) | impl=\(implementation)"
        }

        /// Parses a line written by `line`; nil for anything else.
        public init?(line: String) {
            let fields = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 5, !fields[0].isEmpty, let d = Direction(rawValue: fields[1]) else { return nil }
            func value(_ field: String, _ key: String) -> String? {
                field.hasPrefix(key + "=") ? String(field.dropFirst(key.count + 1)) : nil
            }
            guard let s = value(fields[2], "seed").flatMap({ UInt64($0) }),
                let m = value(fields[3], "mode").flatMap({ ComparisonMode(rawValue: $0) }),
                let i = value(fields[4], "impl"), !i.isEmpty
            else { return nil }
            self.init(problem: fields[0], direction: d, seed: s, mode: m, implementation: i)
        }

        /// Same case, possibly another seed: the key lines are unique by.
        var key: String { "\(problem)|\(direction.rawValue)|\(mode.rawValue)|\(implementation)" }
    }

    /// The contents of one op's file: parsed entries and the lines that did not parse.
    public struct Contents: Sendable {
        public var entries: [Entry] = []
        public var unreadable: [String] = []
    }

    public func path(_ family: OpFamily) -> String { directory + "/" + family.rawValue + ".txt" }

    /// The op's file; empty contents when it does not exist.
    public func load(_ family: OpFamily) throws(FailureDatabaseError) -> Contents {
        let p = path(family)
        guard FileManager.default.fileExists(atPath: p) else { return Contents() }
        let text: String
        do { text = try String(contentsOfFile: p, encoding: .utf8) } catch {
            throw .unreadable(path: p, reason: error.localizedDescription)
        }
        var contents = Contents()
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if let e = Entry(line: line) { contents.entries.append(e) } else { contents.unreadable.append(line) }
        }
        return contents
    }

    /// Writes `contents` as the op's file (deduplicated, atomically); removes the file when
    /// nothing is left.
    public func store(_ contents: Contents, for family: OpFamily) throws(FailureDatabaseError) {
        let p = path(family)
        var seen: [String: Int] = [:]
        var entries: [Entry] = []
        for e in contents.entries {
            if let i = seen[e.key] { entries[i] = e } else { seen[e.key] = entries.count; entries.append(e) }
        }
        let lines = entries.map(\.line) + contents.unreadable
        if lines.isEmpty {
            if FileManager.default.fileExists(atPath: p) {
                do { try FileManager.default.removeItem(atPath: p) } catch {
                    throw .unwritable(path: p, reason: error.localizedDescription)
                }
            }
            return
        }
        let temporary = p + ".tmp.\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw .unwritable(path: p, reason: error.localizedDescription)
        }
        guard rename(temporary, p) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw .unwritable(path: p, reason: reason)
        }
    }

    /// Adds failures to their ops' files (one read-modify-write per op).
    public func record(_ outcomes: [CaseOutcome]) throws(FailureDatabaseError) {
        var byFamily: [OpFamily: [Entry]] = [:]
        for o in outcomes {
            guard let family = try? Problem.parse(o.problem).family else { continue }
            byFamily[family, default: []].append(Entry(o))
        }
        for (family, added) in byFamily.sorted(by: { $0.key < $1.key }) {
            var contents = try load(family)
            contents.entries += added
            try store(contents, for: family)
        }
    }
}

/// A failure database file that cannot be read or written.
public enum FailureDatabaseError: Error, CustomStringConvertible, Sendable {
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let p, let r): return "cannot read the failure database \(p): \(r) (--no-failure-db skips it)"
        case .unwritable(let p, let r): return "cannot write the failure database \(p): \(r) (--no-failure-db skips it)"
        }
    }
}
