/// Shapes are plain `[Int]` arrays, row-major, outermost dimension first.
///
/// These helpers centralise the arithmetic every module needs (element counts with overflow
/// detection, strides, and the `AxBxC` text form used in canonical problem strings), so a
/// shape is never multiplied out by hand elsewhere.
public enum Shape {
    /// Number of elements `∏ dims`, or `nil` when a dimension is negative or the product
    /// overflows `Int`.
    public static func elementCount(_ dims: [Int]) -> Int? {
        var total = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        return total
    }

    /// Row-major strides: `strides[i] = ∏_{j>i} dims[j]`.
    public static func strides(_ dims: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: dims.count)
        var acc = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc &*= dims[i]
        }
        return s
    }

    /// `[2, 3, 4]` → `"2x3x4"`; the empty shape (a scalar) prints as `"scalar"`.
    public static func format(_ dims: [Int]) -> String {
        dims.isEmpty ? "scalar" : dims.map(String.init).joined(separator: "x")
    }

    /// Inverse of `format`: `"2x3x4"` → `[2, 3, 4]`. Accepts negative entries (`-1x784`) so
    /// reshape targets parse; callers validate ranges. Returns `nil` on malformed text.
    public static func parse(_ text: Substring) -> [Int]? {
        if text == "scalar" { return [] }
        guard !text.isEmpty else { return nil }
        var dims: [Int] = []
        for part in text.split(separator: "x", omittingEmptySubsequences: false) {
            guard let v = Int(part) else { return nil }
            dims.append(v)
        }
        return dims
    }

    public static func parse(_ text: String) -> [Int]? { parse(Substring(text)) }
}
