import KernelCheckCore

/// A tokenized problem string: `<op> key=value key=value …`.
///
/// Parsing is strict: a repeated key, a key the op does not know, or a token without `=`
/// is an error naming the token, so a typo never silently falls back to a default.
public struct ProblemFields: Sendable {
    public let text: String
    public let op: String
    private var values: [String: String]
    private var order: [String]
    private var consumed: Set<String> = []

    public init(parsing text: String) throws(ProblemError) {
        self.text = text
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = tokens.first else { throw .malformed(text: text, reason: "empty") }
        op = first
        values = [:]
        order = []
        for token in tokens.dropFirst() {
            guard let eq = token.firstIndex(of: "="), eq != token.startIndex else {
                throw .malformed(text: text, reason: "token '\(token)' is not key=value")
            }
            let key = String(token[..<eq]), value = String(token[token.index(after: eq)...])
            guard values[key] == nil else { throw .malformed(text: text, reason: "key '\(key)' given twice") }
            values[key] = value
            order.append(key)
        }
    }

    public func has(_ key: String) -> Bool { values[key] != nil }

    /// The largest magnitude an integer field may have (2³⁰). Descriptors multiply two fields
    /// and add a few such products (`(in−1)·s + d·(k−1) + op + 1`); with every field at most
    /// 2³⁰ that arithmetic stays far below `Int.max`, so an absurd string is a typed error
    /// instead of an overflow trap. (A single dimension of 2³⁰ float32 is already 4 GiB.)
    public static let maxMagnitude = 1 << 30

    /// Throws `invalidField` naming `key` when `value` is out of ±`maxMagnitude`.
    private func checkRange(_ key: String, _ value: Int) throws(ProblemError) {
        guard value.magnitude <= UInt(Self.maxMagnitude) else {
            throw .invalidField(
                op: op, field: key, reason: "\(value) is out of range (at most \(Self.maxMagnitude) in magnitude)")
        }
    }

    /// The raw text of a key, or `nil` when absent. Marks it as consumed.
    public mutating func raw(_ key: String) -> String? {
        consumed.insert(key)
        return values[key]
    }

    public mutating func int(_ key: String, default def: Int? = nil) throws(ProblemError) -> Int {
        guard let v = raw(key) else {
            if let def { return def }
            throw .malformed(text: text, reason: "missing key '\(key)'")
        }
        guard let i = Int(v) else { throw .malformed(text: text, reason: "\(key)='\(v)' is not an integer") }
        try checkRange(key, i)
        return i
    }

    public mutating func double(_ key: String, default def: Double? = nil) throws(ProblemError) -> Double {
        guard let v = raw(key) else {
            if let def { return def }
            throw .malformed(text: text, reason: "missing key '\(key)'")
        }
        guard let d = Double(v), d.isFinite else {
            throw .malformed(text: text, reason: "\(key)='\(v)' is not a finite number")
        }
        return d
    }

    public mutating func bool(_ key: String, default def: Bool? = nil) throws(ProblemError) -> Bool {
        guard let v = raw(key) else {
            if let def { return def }
            throw .malformed(text: text, reason: "missing key '\(key)'")
        }
        switch v {
        case "1", "true": return true
        case "0", "false": return false
        default: throw .malformed(text: text, reason: "\(key)='\(v)' is not 0 or 1")
        }
    }

    /// A dims list `AxBxC`. With `rank`, a single value is broadcast (`s=2` → `2x2`), and a
    /// list of another length is an error.
    public mutating func dims(_ key: String, rank: Int? = nil, default def: [Int]? = nil) throws(ProblemError) -> [Int]
    {
        guard let v = raw(key) else {
            if let def { return def }
            throw .malformed(text: text, reason: "missing key '\(key)'")
        }
        guard var d = Shape.parse(v) else {
            throw .malformed(text: text, reason: "\(key)='\(v)' is not a list like 3x3")
        }
        for x in d { try checkRange(key, x) }
        if let rank {
            if d.count == 1 && rank > 1 { d = Array(repeating: d[0], count: rank) }
            guard d.count == rank else {
                throw .malformed(text: text, reason: "\(key)='\(v)' has \(d.count) entries, the op needs \(rank)")
            }
        }
        return d
    }

    /// Throws when a key was given that the op never read (a typo or a foreign field).
    public func finish() throws(ProblemError) {
        for key in order where !consumed.contains(key) {
            throw .malformed(text: text, reason: "unknown key '\(key)' for op '\(op)'")
        }
    }
}

/// Formats a Double so that `Double(text) == value` (Swift's shortest round-trip form).
func formatNumber(_ v: Double) -> String {
    v == v.rounded() && Swift.abs(v) < 1e15 ? String(Int(v)) : "\(v)"
}

func check(_ ok: Bool, _ op: String, _ field: String, _ reason: @autoclosure () -> String) throws(ProblemError) {
    if !ok { throw .invalidField(op: op, field: field, reason: reason()) }
}
