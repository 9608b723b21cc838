import Foundation

/// Why a kill-matrix.json could not be used: each names the file and what is wrong, in one line.
public enum KillMatrixError: Error, Equatable, CustomStringConvertible, Sendable {
    case unreadable(path: String, reason: String)
    /// Not JSON, not an object, or another kind of document.
    case notAKillMatrix(path: String, reason: String)
    /// A field that is missing, mistyped or breaks a rule of the driver's format.
    case invalid(path: String, field: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let p, let r): return "cannot read kill matrix \(p): \(r)"
        case .notAKillMatrix(let p, let r): return "\(p) is not a kill matrix: \(r)"
        case .invalid(let p, let f, let r): return "\(p) is not a valid kill matrix: \(f): \(r)"
        }
    }
}

/// Reads the kill matrix `tools/mutants/driver.py` writes (`write_matrix`): `date`, `cpu`,
/// `command`, `detectors`, optional `kind` (`kill_matrix`), `schema_version` (1) and
/// `planned`, and `mutants`, each with `id`, `description`, `path`, `direction`, `class`,
/// `status` and `results` (detector → `status`, `seconds`, optional `shrunk`, `checked`,
/// `failures`). Every field is checked, including that a mutant's verdict agrees with its
/// results, so a hand-edited or truncated file is refused rather than reported.
extension KillMatrix {
    /// The largest file accepted (the whole library's matrix is tens of kilobytes).
    public static let maximumFileBytes = 16 << 20

    public static let supportedSchemaVersion = 1

    /// Reads and checks a regular file of at most `maximumFileBytes`.
    public static func read(_ path: String) throws(KillMatrixError) -> KillMatrix {
        let data: Data
        switch readRegularFile(
            path, maximumBytes: maximumFileBytes, inside: "kill-matrix.json", tooLarge: "larger than any kill matrix")
        {
        case .success(let read): data = read
        case .failure(let unreadable): throw .unreadable(path: path, reason: unreadable.reason)
        }
        return try decode(data, path: path)
    }

    /// Decodes and checks the driver's JSON; `path` names the file in errors and becomes `source`.
    public static func decode(_ data: Data, path: String) throws(KillMatrixError) -> KillMatrix {
        if data.isEmpty { throw .notAKillMatrix(path: path, reason: "the file is empty") }
        do { _ = try JSONSerialization.jsonObject(with: data) } catch {
            throw .notAKillMatrix(
                path: path, reason: "invalid JSON (truncated or corrupt): \(oneLine(NightlyReport.jsonProblem(error)))")
        }
        struct Probe: Decodable {
            var kind: String?
            var schemaVersion: Int?
            enum CodingKeys: String, CodingKey { case kind, schemaVersion = "schema_version" }
        }
        let probe: Probe
        do { probe = try JSONDecoder().decode(Probe.self, from: data) } catch {
            throw .notAKillMatrix(path: path, reason: "the JSON is not an object with the driver's fields")
        }
        if let kind = probe.kind, kind != "kill_matrix" {
            throw .notAKillMatrix(path: path, reason: "its kind is '\(kind.prefix(40))', not kill_matrix")
        }
        if let version = probe.schemaVersion, version != supportedSchemaVersion {
            throw .notAKillMatrix(
                path: path,
                reason: "schema_version \(version); this kernelcheck reads version \(supportedSchemaVersion)")
        }
        let raw: RawMatrix
        do { raw = try JSONDecoder().decode(RawMatrix.self, from: data) } catch {
            let (field, reason) = locate(error)
            throw .invalid(path: path, field: field, reason: reason)
        }
        return try raw.checked(path: path)
    }

    /// `s` on one line (line breaks become spaces) and at most 300 characters, so that no
    /// text of the file can break the Markdown's lines or tables.
    public static func oneLine(_ s: String) -> String {
        String(s.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(300))
    }

    /// The field (`mutants[2].results.exact.status`) and the problem of a decoding error.
    static func locate(_ error: Error) -> (String, String) {
        func path(_ c: [CodingKey]) -> String {
            let p = c.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.hasPrefix(".") ? String(p.dropFirst()) : (p.isEmpty ? "(top level)" : p)
        }
        switch error as? DecodingError {
        case .keyNotFound(let k, let ctx): return (path(ctx.codingPath + [k]), "missing")
        case .typeMismatch(let type, let ctx):
            return (path(ctx.codingPath), "not a \(type) (\(oneLine(ctx.debugDescription)))")
        case .valueNotFound(let type, let ctx): return (path(ctx.codingPath), "null where a \(type) belongs")
        case .dataCorrupted(let ctx): return (path(ctx.codingPath), oneLine(ctx.debugDescription))
        default: return ("(top level)", oneLine("\(error)"))
        }
    }
}

/// The driver's JSON as written (plain keys, `class` for the bug class).
struct RawMatrix: Decodable {
    var date: String
    var cpu: String?
    var command: String?
    var detectors: [String]
    var planned: Int?
    var mutants: [RawMutant]

    struct RawMutant: Decodable {
        var id: String
        var description: String
        var path: String
        var direction: String
        var bugClass: String
        var status: String
        var results: [String: RawResult]
        var error: String?

        enum CodingKeys: String, CodingKey {
            case id, description, path, direction, bugClass = "class", status, results, error
        }
    }

    struct RawResult: Decodable {
        var status: String
        var seconds: Double
        var shrunk: String?
        var checked: Int?
        var failures: Int?
    }

    static let mutantStatuses: Set<String> = ["killed", "survived", "undecided", "stillborn", "inapplicable"]

    /// The semantic rules, then the report's form of the matrix.
    func checked(path file: String) throws(KillMatrixError) -> KillMatrix {
        func fail(_ field: String, _ reason: String) -> KillMatrixError {
            .invalid(path: file, field: field, reason: reason)
        }
        if detectors.isEmpty { throw fail("detectors", "empty: a matrix needs at least one detector") }
        if let d = detectors.first(where: \.isEmpty) ?? duplicate(detectors) {
            throw fail("detectors", d.isEmpty ? "an empty detector name" : "'\(d.prefix(40))' is listed twice")
        }
        if let p = planned, p < mutants.count {
            throw fail("planned", "\(p) is fewer than the \(mutants.count) mutants listed")
        }
        if let id = duplicate(mutants.map(\.id)) { throw fail("mutants", "mutant '\(id.prefix(60))' is listed twice") }
        var rows: [MutantResult] = []
        for (i, m) in mutants.enumerated() {
            let f = "mutants[\(i)]"
            if m.id.isEmpty { throw fail(f + ".id", "empty") }
            guard Self.mutantStatuses.contains(m.status) else {
                throw fail(
                    f + ".status",
                    "'\(m.status.prefix(40))' is not one of \(Self.mutantStatuses.sorted().joined(separator: ", "))")
            }
            var results: [DetectorResult] = []
            for (name, r) in m.results {
                let rf = "\(f).results.\(name)"
                guard detectors.contains(name) else { throw fail(rf, "'\(name.prefix(40))' is not a listed detector") }
                guard let status = DetectorStatus(rawValue: r.status) else {
                    let known = DetectorStatus.allCases.map(\.rawValue).joined(separator: ", ")
                    throw fail(rf + ".status", "'\(r.status.prefix(40))' is not one of \(known)")
                }
                guard r.seconds.isFinite, r.seconds >= 0 else { throw fail(rf + ".seconds", "not a time ≥ 0") }
                for (value, key) in [(r.checked, "checked"), (r.failures, "failures")] where (value ?? 0) < 0 {
                    throw fail("\(rf).\(key)", "negative count")
                }
                results.append(
                    DetectorResult(
                        detector: name, status: status, seconds: r.seconds, shrunk: r.shrunk.map(KillMatrix.oneLine),
                        checked: r.checked,
                        failures: r.failures))
            }
            results.sort { detectors.firstIndex(of: $0.detector)! < detectors.firstIndex(of: $1.detector)! }
            let outcome = try Self.outcome(of: m.status, results, field: f, fail)
            rows.append(
                MutantResult(
                    id: KillMatrix.oneLine(m.id), description: KillMatrix.oneLine(m.description),
                    path: KillMatrix.oneLine(m.path), direction: KillMatrix.oneLine(m.direction),
                    bugClass: KillMatrix.oneLine(m.bugClass),
                    status: m.status, outcome: outcome, results: results,
                    error: m.error.map { KillMatrix.oneLine($0) }))
        }
        return KillMatrix(
            source: file, date: date, cpu: cpu, command: command, detectors: detectors, planned: planned,
            mutants: rows)
    }

    /// The report's outcome of a driver verdict, which must agree with the results (as the
    /// driver's `verdict` computes it): killed iff some detector killed it; survived iff every
    /// detector ran and passed; undecided (a timeout, else an error) otherwise; no results
    /// for a mutant that did not build or apply.
    static func outcome(
        of status: String, _ results: [DetectorResult], field: String,
        _ fail: (String, String) -> KillMatrixError
    ) throws(KillMatrixError) -> MutantOutcome {
        let statuses = Set(results.map(\.status))
        let expected: String
        if statuses.contains(.killed) {
            expected = "killed"
        } else if statuses.contains(.timeout) || statuses.contains(.error) {
            expected = "undecided"
        } else if !results.isEmpty {
            expected = "survived"
        } else {
            guard status == "stillborn" || status == "inapplicable" else {
                throw fail(field + ".results", "no detector results for a mutant whose status is \(status)")
            }
            return status == "stillborn" ? .stillborn : .inapplicable
        }
        guard status == expected else {
            throw fail(field + ".status", "\(status), but its results make it \(expected)")
        }
        switch expected {
        case "killed": return .killed
        case "survived": return .survived
        default: return statuses.contains(.timeout) ? .timeout : .error
        }
    }

    func duplicate(_ names: [String]) -> String? {
        var seen: Set<String> = []
        return names.first { !seen.insert($0).inserted }
    }
}
