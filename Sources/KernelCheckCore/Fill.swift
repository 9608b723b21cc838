/// How a tensor's values are drawn. Text forms: `uniform(-1,1)`, `normal(0,1)`, `int(3,0.5)`.
///
/// `integers(k, density)` is benchdnn's exact fill: each element is, with probability
/// `density`, a uniform integer in `[−k, k]`, otherwise 0. When every partial sum of a
/// reduction stays below 2²⁴ in magnitude, fp32 accumulation of such values is exact in any
/// order, so a tiled kernel must then equal the reference bit for bit.
public enum Fill: Equatable, Hashable, Sendable, LosslessStringConvertible {
    case uniform(low: Double, high: Double)
    case normal(mean: Double, std: Double)
    case integers(k: Int, density: Double)

    public var description: String {
        switch self {
        case .uniform(let a, let b): return "uniform(\(Fill.fmt(a)),\(Fill.fmt(b)))"
        case .normal(let m, let s): return "normal(\(Fill.fmt(m)),\(Fill.fmt(s)))"
        case .integers(let k, let d): return "int(\(k),\(Fill.fmt(d)))"
        }
    }

    public init?(_ text: String) {
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else { return nil }
        let name = text[..<open]
        let args = text[text.index(after: open)..<text.index(before: text.endIndex)]
            .split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard args.count == 2 else { return nil }
        switch name {
        case "uniform":
            guard let a = Double(args[0]), let b = Double(args[1]), a.isFinite, b.isFinite, a <= b else { return nil }
            self = .uniform(low: a, high: b)
        case "normal":
            guard let m = Double(args[0]), let s = Double(args[1]), m.isFinite, s.isFinite, s >= 0 else { return nil }
            self = .normal(mean: m, std: s)
        case "int":
            guard let k = Int(args[0]), let d = Double(args[1]), k >= 0, k <= 1 << 20, d >= 0, d <= 1 else {
                return nil
            }
            self = .integers(k: k, density: d)
        default:
            return nil
        }
    }

    /// Shortest text that parses back to the same Double (Swift's description does this).
    static func fmt(_ v: Double) -> String {
        v == v.rounded() && Swift.abs(v) < 1e15 ? String(Int(v)) : "\(v)"
    }

    /// Draws one value.
    public func sample(_ rng: inout SeededRNG) -> Double {
        switch self {
        case .uniform(let a, let b): return a + (b - a) * rng.nextUnitDouble()
        case .normal(let m, let s): return m + s * rng.nextNormal()
        case .integers(let k, let d):
            // Always draw both numbers so the stream position never depends on density.
            let keep = rng.nextUnitDouble() < d
            let v = rng.nextInt(in: -k...k)
            return keep ? Double(v) : 0
        }
    }

    /// A tensor of `shape` filled from `rng`, values rounded to `Scalar`.
    ///
    /// Specialized for Float and Double: the unspecialized generic loop looked up type
    /// metadata for every element, and filling a benchmark's 128 MB tensors took longer than
    /// timing them.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func tensor<Scalar: BinaryFloatingPoint & Sendable>(
        _ shape: [Int], rng: inout SeededRNG, as: Scalar.Type = Scalar.self
    ) -> Tensor<Scalar> {
        var t = Tensor<Scalar>(zeros: shape)
        t.storage.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = Scalar(sample(&rng)) }
        }
        return t
    }

    /// Fills a tensor from the named stream of a case seed (see `SeededRNG(seed:stream:)`).
    public func tensor<Scalar: BinaryFloatingPoint & Sendable>(
        _ shape: [Int], seed: UInt64, role: String, as: Scalar.Type = Scalar.self
    ) -> Tensor<Scalar> {
        var rng = SeededRNG(seed: seed, stream: role)
        return tensor(shape, rng: &rng)
    }

    /// Exact mode for narrow types (docs/design.md, "Exact mode per precision"): the largest
    /// `k ≤ min(maxK, storage.largestExactInteger)` with `K·k² + k < 2ᵖ` of the accumulator
    /// (`2²⁴` for f32, `2¹¹ = 2048` for f16), so every input is an exact integer of `storage`
    /// and every partial sum, in any order, an exact integer of `accumulation`; `nil` when not
    /// even `k = 1` qualifies (an f16 accumulator with `K ≥ 2047`): then no integer fill can
    /// promise an exact result, and exact mode must say so instead of comparing.
    ///
    /// The output type needs no range of its own: the exact sum rounded once to it
    /// (round-to-nearest-even) is one well-defined value, which the kernel must produce.
    public static func exact(
        accumulationLength: Int, storage: ScalarType, accumulation: ScalarType, maxK: Int = 4, density: Double = 1
    ) -> Fill? {
        let limit = accumulation.largestExactInteger, n = max(accumulationLength, 1)
        var k = min(maxK, storage.largestExactInteger)
        while k >= 1 {
            // n·k² + k < limit, written so that no product can overflow.
            if n < (limit - k + k * k - 1) / (k * k) { return .integers(k: k, density: density) }
            k -= 1
        }
        return nil
    }

    /// Integer fill whose products summed over `accumulationLength` terms can never exceed
    /// 2²⁴ (plus one bias term), so fp32 sums are exact in any order: `K·k² + k < 2²⁴`.
    public static func exact(accumulationLength: Int, maxK: Int = 4, density: Double = 0.5) -> Fill {
        var k = maxK
        while k > 1 && (max(accumulationLength, 1) * k * k + k) >= (1 << 24) { k -= 1 }
        return .integers(k: k, density: density)
    }
}
