import Foundation

/// The one JSON format of every `--format json` output and every report file
/// (docs/json.md, schemas/).
///
/// Every document is an object with `schema_version` (`JSONFormat.schemaVersion`), `kind`
/// (`JSONKind`) and `totals` (`JSONTotals`), then the kind's own fields. Keys are
/// snake_case: the types keep Swift's camelCase names and the encoder converts them
/// (`maxULPDistance` → `max_ulp_distance`). Non-finite numbers are the strings `"inf"`,
/// `"-inf"` and `"nan"`, so a strict JSON parser reads every document.
public enum JSONFormat {
    /// The version of the layout of every kind; a reader refuses other versions.
    public static let schemaVersion = 1

    /// Snake-case keys, sorted and pretty-printed (diffable), non-finite numbers as strings.
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    /// The reader of `encoder()`'s output.
    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// `body` as a document of `kind`: its fields plus `schema_version`, `kind` and `totals`.
    public static func document<Body: Encodable>(_ kind: JSONKind, totals: JSONTotals, _ body: Body) throws -> Data {
        try encoder().encode(Document(kind: kind, totals: totals, body: body))
    }

    /// `document` as UTF-8 text.
    public static func string<Body: Encodable>(_ kind: JSONKind, totals: JSONTotals, _ body: Body) throws -> String {
        String(decoding: try document(kind, totals: totals, body), as: UTF8.self)
    }

    /// The envelope: the body's keys and the three common ones in one object.
    struct Document<Body: Encodable>: Encodable {
        var kind: JSONKind
        var totals: JSONTotals
        var body: Body

        enum Keys: String, CodingKey { case schemaVersion, kind, totals }

        func encode(to encoder: any Encoder) throws {
            // The body writes its keys into the same object (a keyed container requested
            // twice is one object), so a document is flat.
            try body.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(JSONFormat.schemaVersion, forKey: .schemaVersion)
            try c.encode(kind, forKey: .kind)
            try c.encode(totals, forKey: .totals)
        }
    }
}

/// What a JSON document holds; each kind has its schema, `schemas/<kind>.schema.json`.
public enum JSONKind: String, Codable, Sendable, CaseIterable {
    /// `kernelcheck verify --format json`.
    case verify
    /// `kernelcheck check --format json` (a random sweep).
    case check
    /// `kernelcheck check --problem … --format json` (one replayed problem).
    case checkProblem = "check_problem"
    /// `kernelcheck bench --format json` and `bench --out`.
    case bench
    /// `report.json` of `kernelcheck nightly` and `kernelcheck report merge`.
    case nightlyReport = "nightly_report"
    /// `kernelcheck report diff --format json`.
    case reportDiff = "report_diff"
}

/// The counts every document carries: checks by status. `checks` is their sum.
///
/// `suspicious` came after the first version-1 documents: a document without it reads as 0.
public struct JSONTotals: Codable, Sendable, Equatable {
    public var passed: Int
    public var failed: Int
    public var mistrusted: Int
    public var suspicious: Int
    public var skipped: Int
    public var checks: Int

    public init(passed: Int, failed: Int, mistrusted: Int, suspicious: Int = 0, skipped: Int) {
        self.passed = passed
        self.failed = failed
        self.mistrusted = mistrusted
        self.suspicious = suspicious
        self.skipped = skipped
        checks = passed + failed + mistrusted + suspicious + skipped
    }

    /// The totals of a list of outcomes.
    public init(_ outcomes: [CaseOutcome]) {
        func count(_ s: ComparisonStatus) -> Int { outcomes.filter { $0.status == s }.count }
        self.init(
            passed: count(.passed), failed: count(.failed), mistrusted: count(.mistrusted),
            suspicious: count(.suspicious), skipped: count(.skipped))
    }

    /// `N passed, N failed, N mistrusted, N suspicious, N skipped`: the summary line of a text run.
    public var summaryLine: String {
        "\(passed) passed, \(failed) failed, \(mistrusted) mistrusted, \(suspicious) suspicious, \(skipped) skipped"
    }

    enum CodingKeys: String, CodingKey { case passed, failed, mistrusted, suspicious, skipped, checks }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        passed = try c.decode(Int.self, forKey: .passed)
        failed = try c.decode(Int.self, forKey: .failed)
        mistrusted = try c.decode(Int.self, forKey: .mistrusted)
        suspicious = try c.decodeIfPresent(Int.self, forKey: .suspicious) ?? 0
        skipped = try c.decode(Int.self, forKey: .skipped)
        checks = try c.decode(Int.self, forKey: .checks)
    }
}
