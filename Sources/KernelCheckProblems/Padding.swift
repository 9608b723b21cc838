import KernelCheckCore

/// Spatial padding of a convolution: explicit `(begin, end)` per dimension, or a mode that
/// resolves to explicit numbers from the input size, kernel, stride and dilation.
///
/// Text form: `same`, `same_lower`, `valid`, or `B:E` with `B` and `E` dims lists
/// (`1x2:1x3` = begin (1, 2), end (1, 3)). A single number is symmetric (`p=1`).
public enum Padding: Hashable, Sendable, CustomStringConvertible {
    case explicit(begin: [Int], end: [Int])
    /// SAME_UPPER: output `ceil(in/s)` for conv, `in·s` for transposed conv; the odd extra
    /// pixel goes at the end.
    case same
    /// As `same`, with the odd extra pixel at the beginning.
    case sameLower
    /// No padding.
    case valid

    public var description: String {
        switch self {
        case .same: return "same"
        case .sameLower: return "same_lower"
        case .valid: return "valid"
        case .explicit(let b, let e): return "\(Shape.format(b)):\(Shape.format(e))"
        }
    }

    static func parse(_ text: String, rank: Int, problemText: String) throws(ProblemError) -> Padding {
        switch text {
        case "same": return .same
        case "same_lower": return .sameLower
        case "valid": return .valid
        default: break
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        func list(_ s: Substring) throws(ProblemError) -> [Int] {
            guard var d = Shape.parse(s) else {
                throw .malformed(text: problemText, reason: "p='\(text)' is not same, same_lower, valid or B:E")
            }
            // Same bound as every integer field (ProblemFields.maxMagnitude): keeps the
            // output-size arithmetic free of overflow.
            if let big = d.first(where: { $0.magnitude > UInt(ProblemFields.maxMagnitude) }) {
                throw .malformed(
                    text: problemText,
                    reason: "p='\(text)': \(big) is out of range (at most \(ProblemFields.maxMagnitude) in magnitude)")
            }
            if d.count == 1 && rank > 1 { d = Array(repeating: d[0], count: rank) }
            guard d.count == rank else {
                throw .malformed(text: problemText, reason: "p='\(text)' has \(d.count) entries, the op needs \(rank)")
            }
            return d
        }
        switch parts.count {
        case 1: let d = try list(parts[0]); return .explicit(begin: d, end: d)
        case 2: return .explicit(begin: try list(parts[0]), end: try list(parts[1]))
        default: throw .malformed(text: problemText, reason: "p='\(text)' is not same, same_lower, valid or B:E")
        }
    }

    /// Splits a total padding (or crop) in two: SAME_UPPER puts the larger half last.
    static func split(total: Int, lowerFirst: Bool) -> (Int, Int) {
        let small = total / 2
        return lowerFirst ? (total - small, small) : (small, total - small)
    }
}
