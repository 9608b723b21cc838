import Foundation
import KernelCheckVerification

extension NightlyReport {
    static func decoder() -> JSONDecoder { JSONFormat.decoder() }

    /// The counts of every check of the report (`totals` of the JSON document).
    public var totals: JSONTotals {
        JSONTotals(
            passed: passed, failed: failed, mistrusted: mistrusted, suspicious: suspicious, skipped: skippedCases)
    }

    /// The report as a `nightly_report` JSON document (docs/json.md): pretty-printed, sorted keys.
    public func jsonData() throws -> Data { try JSONFormat.document(.nightlyReport, totals: totals, self) }

    /// Decodes a report, checking `schema_version` before anything else, then the semantic
    /// rules of `validate(path:)`.
    public static func decode(_ data: Data, path: String = "<data>") throws(ReportError) -> NightlyReport {
        if data.isEmpty { throw .notAReport(path: path, reason: "the file is empty") }
        do { _ = try JSONSerialization.jsonObject(with: data) } catch {
            throw .notAReport(path: path, reason: "invalid JSON (truncated or corrupt): \(jsonProblem(error))")
        }
        // `kind` is absent from reports written before the common JSON format (same version:
        // they read as they are); any other kind is another command's output.
        struct Probe: Decodable { var schemaVersion: Int?, kind: String? }
        let probe: Probe
        do { probe = try decoder().decode(Probe.self, from: data) } catch {
            throw .notAReport(path: path, reason: "the JSON is not an object with a schema_version")
        }
        if let kind = probe.kind, kind != JSONKind.nightlyReport.rawValue {
            throw .notAReport(
                path: path, reason: "its kind is '\(kind.prefix(40))' (another command's JSON), not nightly_report")
        }
        guard let version = probe.schemaVersion else { throw .missingSchemaVersion(path: path) }
        guard version == currentSchemaVersion else {
            throw .unsupportedSchemaVersion(path: path, found: version, supported: currentSchemaVersion)
        }
        let report: NightlyReport
        do { report = try decoder().decode(NightlyReport.self, from: data) } catch {
            throw .notAReport(path: path, reason: describe(error))
        }
        try report.validate(path: path)
        return report
    }

    /// The largest report.json accepted (a nightly's is well under a megabyte).
    public static let maximumFileBytes = 256 << 20

    /// Reads and checks a report file: a regular file (not a directory, device or FIFO: a
    /// read of `/dev/zero` would never end) of at most `maximumFileBytes`.
    public static func read(_ path: String) throws(ReportError) -> NightlyReport {
        let data: Data
        switch readRegularFile(
            path, maximumBytes: maximumFileBytes, inside: "report.json",
            tooLarge: "larger than any report (\(maximumFileBytes))")
        {
        case .success(let read): data = read
        case .failure(let unreadable): throw .unreadable(path: path, reason: unreadable.reason)
        }
        return try decode(data, path: path)
    }

    /// The parser's own words, without Foundation's "The data couldn't be read…" preamble.
    static func jsonProblem(_ error: Error) -> String {
        let ns = error as NSError
        if let detail = ns.userInfo[NSDebugDescriptionErrorKey] as? String, !detail.isEmpty { return detail }
        return ns.localizedDescription
    }

    /// Names the missing or mistyped field of a decoding error.
    static func describe(_ error: Error) -> String {
        func path(_ c: [CodingKey]) -> String {
            c.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error as? DecodingError {
        case .keyNotFound(let k, let ctx): return "missing field \(path(ctx.codingPath + [k]))"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
            return "bad value at \(path(ctx.codingPath)): \(ctx.debugDescription)"
        default: return "\(error)"
        }
    }
}

/// Writes files so that a reader (or a killed run) sees the old file or the new one, never
/// half of one: the bytes go to a temporary file in the same directory, which is then
/// renamed over the target (rename(2) is atomic within a file system).
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws(ReportError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try data.write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
        // On disk before the rename publishes it, so a crash of the machine (not only of the
        // process) cannot leave an empty file under the report's name.
        let descriptor = open(temporary.path, O_RDONLY)
        guard descriptor >= 0, fsync(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            if descriptor >= 0 { close(descriptor) }
            try? FileManager.default.removeItem(at: temporary)
            throw .cannotWrite(path: path, reason: "fsync of \(temporary.path): \(reason)")
        }
        close(descriptor)
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw .cannotWrite(path: path, reason: reason)
        }
    }

    public static func write(_ text: String, to path: String) throws(ReportError) {
        try write(Data(text.utf8), to: path)
    }
}

extension NightlyReport {
    /// Writes `report.json`, `report.md` and `report.html` into `directory` (created if
    /// needed) as one unit (see `ReportDirectory`); returns their paths.
    @discardableResult
    public func write(to directory: String) throws(ReportError) -> [String] {
        try ReportDirectory(directory).publish(self)
    }

    /// Attaches the diff against `baseline` (read from `path`).
    public mutating func compare(with baseline: NightlyReport, path: String) {
        self.baseline = BaselineInfo(path: path, report: baseline)
        diff = ReportDiff(baseline: baseline, current: self)
    }
}
