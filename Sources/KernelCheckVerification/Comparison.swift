import Foundation
import KernelCheckCore
import KernelCheckProblems

/// How `Comparison.compare` decides whether an element matches.
public enum ComparisonMode: String, Codable, Sendable, CaseIterable {
    /// Integer fills (docs/design.md, exact mode): every element must equal the expected
    /// value rounded to Float, bit for bit — except that −0 and +0 count as equal (IEEE
    /// `==`; no kernel contract specifies the sign of a zero sum).
    case exact
    /// Random real fills (docs/design.md, bound mode): `|actual − expected| ≤ ErrorBound.element(…)`;
    /// an element beyond `ErrorBound.probabilistic` but within that makes the result `suspicious`.
    case bound
    /// Bound mode's fills, judged by the probabilistic bound: an element beyond
    /// `ErrorBound.probabilistic(…)` is a mismatch (what bound mode calls suspicious fails).
    case tight

    /// Whether the mode draws real-valued inputs and needs the magnitude (bound and tight).
    public var usesBound: Bool { self != .exact }
}

/// The outcome of a comparison (benchdnn's statuses): never a silent pass.
public enum ComparisonStatus: String, Codable, Sendable, CaseIterable {
    case passed
    case failed
    /// Every element matched but the check means little (see `Comparison`'s rules).
    case mistrusted
    /// Bound mode: every element is within the worst-case bound but some exceed the
    /// probabilistic one (`ErrorBound.probabilistic`): a correct kernel does that with
    /// probability about 10⁻¹² per element. Counted on its own, never as passed or failed.
    case suspicious
    /// Not compared at all (the caller gave no magnitude for bound mode, mismatched shapes
    /// of expected and magnitude, or `ComparisonResult.skipped(reason:)`).
    case skipped
}

/// Compares an implementation's Float32 output against the Float64 expected values.
///
/// Per element `i` (flat, row-major; `e` expected, `a` actual, `u = 2^−24`):
/// - error `|a − e|` (in Double), relative error `|a − e| / |e|` (∞ when `e = 0 ≠ a`),
///   ULP distance between `a` and `Float(e)` (`ulpDistance`), bound `ErrorBound.element`
///   from `magnitude[i]` and `accumulationLength`, utilization `error / bound` (0/0 = 0,
///   error > 0 with bound 0 → ∞);
/// - the ULP distance is *significant* only where `a` and `e` have the same sign and
///   `|e| > bound` (bound 0 without a magnitude): near zero, or across a sign change, a
///   result within the bound can be millions of ULPs away from `Float(e)`, and the count
///   says nothing about accuracy. `maxSignificantULPDistance` is the maximum over the
///   significant elements (nil when there is none), `insignificantULPCount` counts the others;
/// - a mismatch: exact mode `a != Float(e)`; bound mode `error > bound`; tight mode
///   `error > ErrorBound.probabilistic(…)` (the worst element is then the one with the
///   largest error / probabilistic bound, and `worstBound` that bound);
/// - suspicious (bound mode only): `ErrorBound.probabilistic(…) < error ≤ bound`;
/// - non-finite values: a NaN or ±∞ in `actual` where `e` is finite is a mismatch; a
///   non-finite `e` is a mismatch ("expected value is not finite") unless `a` is the same
///   non-finite value (NaN and NaN, or the same infinity), which counts as a match. A
///   non-finite mismatch makes the utilization, the absolute and relative errors and the NMSE
///   infinite; the ULP maximum is over the finite pairs.
///
/// With a narrow output type (`precision.output` = `odt` ≠ f32; docs/design.md, "Bounds per
/// precision") the bound is `ErrorBound.element(…precision:)`, exact mode compares with the
/// expected value rounded once to odt (`ScalarType.roundedOnce`), ULP distances count odt's
/// values, and two more failures exist:
/// - **not rounded to odt**: a finite output that is not a value of odt (the kernel skipped
///   its output rounding); counted in `notRoundedCount`, the first index named in the reason;
/// - **overflow**: ±Inf or NaN where the exact value, widened by its bound, still rounds to a
///   finite odt value (`overflowCount`). Where even the exact value narrowed by its bound
///   overflows odt, the correct output is ±Inf of its sign (NaN for f8e4m3, which has no Inf)
///   and is accepted; in between either a finite result within the bound or that overflow is.
///
/// Whole tensor: NMSE `Σ(a − e)² / Σe²` (0 when both sums are 0, ∞ when only `Σe²` is), the
/// maxima of the metrics above, the worst element (the first non-finite mismatch if any,
/// else the largest utilization in bound mode or the largest error in exact mode) with its
/// coordinates, and "Mismatched elements: k / n" as in `torch.testing.assert_close`.
///
/// Status, in this order (failed > suspicious > mistrusted > passed):
/// 1. `failed` when any element mismatches, or `actual` has the wrong element count;
/// 2. `suspicious` when some element is suspicious (the reason names how many, λ and the
///    worst of them with both bounds);
/// 3. `mistrusted` (reason "empty output") for an empty output: nothing was compared (the
///    caller's guard regions still catch any write), so it is never counted as a pass;
/// 4. `mistrusted` in bound mode when some element's bound is infinite (`K·u ≥ 1`);
/// 5. `mistrusted` when every expected value is exactly zero, or when `n ≥ 10` and more
///    than 90 % of them are (benchdnn's MISTRUSTED: a kernel that writes zeros would pass);
/// 6. otherwise `passed`.
public enum Comparison {
    /// Fraction of exactly-zero expected values above which a passing check is mistrusted.
    public static let mistrustZeroFraction = 0.9
    /// The zero-fraction rule applies from this many elements on (all-zero always applies).
    public static let mistrustMinimumCount = 10

    public static func compare(
        actual: UnsafeBufferPointer<Float>, expected: Tensor<Double>, magnitude: Tensor<Double>? = nil,
        accumulationLength: Int, mode: ComparisonMode, precision: Precision = .float32
    ) -> ComparisonResult {
        let n = expected.count
        let out = precision.output, narrow = precision.output != .f32
        func boundOf(_ e: Double, _ i: Int) -> Double {
            magnitude.map {
                ErrorBound.element(
                    expected: e, magnitude: $0.storage[i], accumulationLength: accumulationLength, precision: precision)
            } ?? 0
        }
        /// Whether `x` rounds to a finite value of odt.
        func fits(_ x: Double) -> Bool { out.roundedOnce(x).isFinite }
        var r = ComparisonResult(mode: mode, shape: expected.shape, accumulationLength: accumulationLength)
        r.elementCount = n
        guard actual.count == n else {
            r.status = .failed
            r.mismatchedCount = max(actual.count, n)
            r.reason = "actual has \(actual.count) elements, expected \(n) (shape \(Shape.format(expected.shape)))"
            return r
        }
        if let m = magnitude, m.count != n {
            return .skipped(
                reason: "magnitude has \(m.count) elements, expected \(n) (shape \(Shape.format(expected.shape)))",
                mode: mode, shape: expected.shape, accumulationLength: accumulationLength)
        }
        if mode.usesBound && magnitude == nil {
            return .skipped(
                reason: "bound mode needs the magnitude (the reference on |inputs|)",
                mode: mode, shape: expected.shape, accumulationLength: accumulationLength)
        }

        var firstNonFinite: (index: Int, detail: String)?
        var worstScore = -1.0
        var squaredError = 0.0, squaredExpected = 0.0
        var infiniteBound = false
        var worstSuspicious: (index: Int, error: Double, probabilistic: Double, bound: Double)?
        var firstNotRounded: Int?
        for i in 0..<n {
            let e = expected.storage[i], a = actual[i]
            if e == 0 { r.zeroExpectedCount += 1 }
            guard e.isFinite else {
                let same = (e.isNaN && a.isNaN) || Double(a) == e
                if !same {
                    r.mismatchedCount += 1
                    r.recordUnboundedError()
                    if firstNonFinite == nil {
                        firstNonFinite = (i, "expected value is not finite (\(e)) but actual is \(a)")
                    }
                }
                continue
            }
            guard a.isFinite else {
                if narrow {
                    let b = mode == .exact ? 0 : boundOf(e, i)
                    if fits(Swift.abs(e) + b) {
                        r.overflowCount += 1
                        if firstNonFinite == nil {
                            firstNonFinite = (
                                i,
                                "overflow: actual is \(a) where the exact value \(e) is within \(out)'s range"
                                    + " (largest finite \(format(out.largestFinite, "%g")))"
                            )
                        }
                    } else if out.hasInfinity ? (a.isInfinite && (a < 0) == (e < 0)) : a.isNaN {
                        continue  // the exact value overflows odt too: this is the correct result
                    }
                }
                r.mismatchedCount += 1
                r.recordUnboundedError()
                squaredError = .infinity
                if firstNonFinite == nil { firstNonFinite = (i, "actual is \(a) where expected is finite (\(e))") }
                continue
            }
            let difference = Double(a) - e
            let error = Swift.abs(difference)
            let bound = boundOf(e, i)
            if bound == .infinity { infiniteBound = true }
            let utilization = error == 0 ? 0 : (bound == 0 ? .infinity : error / bound)
            // The second opinion; in tight mode it is the bound the element is judged by.
            var applied = bound
            if mode.usesBound, let m = magnitude {
                let tight = ErrorBound.probabilistic(
                    expected: e, magnitude: m.storage[i], accumulationLength: accumulationLength, precision: precision)
                let tightUtilization = error == 0 ? 0 : (tight == 0 ? Double.infinity : error / tight)
                r.probabilisticUtilization = max(r.probabilisticUtilization, tightUtilization)
                if mode == .tight {
                    applied = tight
                } else if tightUtilization > 1 && utilization <= 1 {
                    r.suspiciousCount += 1
                    if tightUtilization > (worstSuspicious.map { $0.error / $0.probabilistic } ?? 0) {
                        worstSuspicious = (i, error, tight, bound)
                    }
                }
            }
            let appliedUtilization =
                mode == .tight ? (error == 0 ? 0 : (applied == 0 ? .infinity : error / applied)) : utilization
            let rounded = narrow ? out.roundedOnce(e) : Float(e)
            // A value odt cannot hold: the kernel did not round its output (whatever its error).
            let notRounded = narrow && !out.represents(a)
            if notRounded {
                r.notRoundedCount += 1
                if firstNotRounded == nil { firstNotRounded = i }
            }
            let mismatch = (mode == .exact ? a != rounded : error > applied) || notRounded
            if mismatch { r.mismatchedCount += 1 }
            r.maxAbsError = max(r.maxAbsError, error)
            r.maxRelError = max(r.maxRelError, e == 0 ? (error == 0 ? 0 : .infinity) : error / Swift.abs(e))
            let ulp = narrow ? ulpDistance(a, rounded, in: out) : ulpDistance(a, rounded)
            r.maxULPDistance = max(r.maxULPDistance, ulp)
            if a.sign == rounded.sign && Swift.abs(e) > bound {
                r.maxSignificantULPDistance = max(r.maxSignificantULPDistance ?? 0, ulp)
            } else {
                r.insignificantULPCount += 1
            }
            r.boundUtilization = max(r.boundUtilization, utilization)
            squaredError += difference * difference
            squaredExpected += e * e
            let score = mode.usesBound ? appliedUtilization : error
            if error > 0 && score > worstScore {
                worstScore = score
                r.setWorst(index: i, actual: a, expected: e, bound: magnitude == nil ? nil : applied)
            }
        }
        r.nmse = squaredExpected == 0 ? (squaredError == 0 ? 0 : .infinity) : squaredError / squaredExpected
        if let first = firstNonFinite {
            r.setWorst(
                index: first.index, actual: actual[first.index], expected: expected.storage[first.index], bound: nil)
        }

        let percent = n == 0 ? 0 : 100 * Double(r.mismatchedCount) / Double(n)
        if r.mismatchedCount > 0 {
            r.status = .failed
            var reason = "Mismatched elements: \(r.mismatchedCount) / \(n) (\(format(percent, "%.1f"))%)"
            if let i = firstNotRounded {
                reason +=
                    "; not rounded to \(out): \(r.notRoundedCount) output value\(r.notRoundedCount == 1 ? "" : "s")"
                    + " not \(out) numbers, first at index \(i) "
                    + "\(formatIndex(coordinates(ofFlatIndex: i, shape: expected.shape))): \(actual[i])"
                    + " (nearest \(out) value \(out.rounded(actual[i])); the kernel skipped its output rounding)"
            }
            if let first = firstNonFinite {
                reason +=
                    "; first non-finite at index \(first.index) \(formatIndex(r.worstCoordinates ?? [])): \(first.detail)"
            } else if let idx = r.worstIndex, let a = r.worstActual, let e = r.worstExpected {
                reason += "; worst at index \(idx) \(formatIndex(r.worstCoordinates ?? [])): actual \(a), expected \(e)"
                if let b = r.worstBound {
                    reason +=
                        ", error \(format(Swift.abs(a - e))) > \(mode == .tight ? "probabilistic " : "")bound \(format(b))"
                }
            }
            if mode == .tight {
                reason += " (tight mode: \(probabilisticModel(accumulationLength, precision: precision)))"
            }
            r.reason = reason
        } else if let s = worstSuspicious {
            r.status = .suspicious
            r.reason =
                "\(r.suspiciousCount) of \(n) element\(n == 1 ? "" : "s") beyond the probabilistic bound"
                + " (\(probabilisticModel(accumulationLength, precision: precision))); worst at index \(s.index) "
                + "\(formatIndex(coordinates(ofFlatIndex: s.index, shape: expected.shape))): error \(format(s.error))"
                + " > \(format(s.probabilistic)) (worst-case bound \(format(s.bound)))"
        } else if n == 0 {
            // Nothing was compared: a verification harness never calls that a pass.
            r.status = .mistrusted
            r.reason = "empty output: no elements to compare"
        } else if mode == .bound && infiniteBound {
            r.status = .mistrusted
            r.reason = "the error bound is infinite: γ_K with K = \(accumulationLength) has K·u ≥ 1"
        } else if r.zeroExpectedCount == n {
            r.status = .mistrusted
            r.reason = "all \(n) expected values are exactly zero"
        } else if n >= mistrustMinimumCount && Double(r.zeroExpectedCount) > mistrustZeroFraction * Double(n) {
            r.status = .mistrusted
            r.reason =
                "\(r.zeroExpectedCount) of \(n) expected values "
                + "(\(format(100 * Double(r.zeroExpectedCount) / Double(n), "%.1f"))%) are exactly zero, "
                + "more than \(format(100 * mistrustZeroFraction, "%.0f"))%"
        } else {
            r.status = .passed
        }
        return r
    }

    public static func compare(
        actual: [Float], expected: Tensor<Double>, magnitude: Tensor<Double>? = nil,
        accumulationLength: Int, mode: ComparisonMode, precision: Precision = .float32
    ) -> ComparisonResult {
        actual.withUnsafeBufferPointer {
            compare(
                actual: $0, expected: expected, magnitude: magnitude, accumulationLength: accumulationLength,
                mode: mode,
                precision: precision)
        }
    }

    public static func compare(
        actual: Tensor<Float>, expected: Tensor<Double>, magnitude: Tensor<Double>? = nil,
        accumulationLength: Int, mode: ComparisonMode, precision: Precision = .float32
    ) -> ComparisonResult {
        compare(
            actual: actual.storage, expected: expected, magnitude: magnitude,
            accumulationLength: accumulationLength, mode: mode, precision: precision)
    }

    /// Compares the payload of a guarded output buffer (its guards are the caller's to check).
    public static func compare(
        actual: GuardedBuffer, expected: Tensor<Double>, magnitude: Tensor<Double>? = nil,
        accumulationLength: Int, mode: ComparisonMode, precision: Precision = .float32
    ) -> ComparisonResult {
        compare(
            actual: UnsafeBufferPointer(actual.payload), expected: expected, magnitude: magnitude,
            accumulationLength: accumulationLength, mode: mode, precision: precision)
    }

    /// Number of representable Floats between `a` and `b` (0 when equal; −0 and +0 are the
    /// same point; the smallest positive and negative subnormals are 2 apart). Maps each
    /// Float to a signed integer that is monotone in the value (sign-magnitude → two's
    /// complement). Infinities are one step beyond the largest finite value; NaN gives
    /// `Int.max`.
    public static func ulpDistance(_ a: Float, _ b: Float) -> Int {
        if a.isNaN || b.isNaN { return Int.max }
        func ordered(_ x: Float) -> Int {
            let bits = x.bitPattern
            let magnitude = Int(bits & 0x7FFF_FFFF)
            return bits >> 31 == 1 ? -magnitude : magnitude
        }
        return Swift.abs(ordered(a) - ordered(b))
    }

    /// Row-major coordinates of a flat index (`[]` for a scalar).
    public static func coordinates(ofFlatIndex index: Int, shape: [Int]) -> [Int] {
        var rest = index
        var out = [Int](repeating: 0, count: shape.count)
        for k in stride(from: shape.count - 1, through: 0, by: -1) where shape[k] > 0 {
            out[k] = rest % shape[k]
            rest /= shape[k]
        }
        return out
    }

    /// "λ=8.7, √K·u model, false-alarm rate 1e-12 per element": how `ErrorBound.probabilistic`
    /// was set for accumulation length `k`, for reasons that cite it.
    static func probabilisticModel(_ k: Int, precision: Precision = .float32) -> String {
        let u = precision.accumulation.unitRoundoff
        return "λ=\(format(ErrorBound.lambda(k: k, unitRoundoff: u), "%.2g")), √K·u model, K=\(k),"
            + (precision.accumulation == .f32 ? "" : " u=2^-\(precision.accumulation.significandBits) (acc=f16),")
            + " false-alarm rate \(format(ErrorBound.probabilisticFalseAlarmRate, "%.0e")) per element"
    }

    /// Number of values of `type` between `a` and `b` (each first rounded to `type`), as
    /// `ulpDistance(_:_:)` counts Floats: ±0 the same point, ±Inf one step beyond the largest
    /// finite value, NaN `Int.max`.
    public static func ulpDistance(_ a: Float, _ b: Float, in type: ScalarType) -> Int {
        if type == .f32 { return ulpDistance(a, b) }
        let ra = type.rounded(a), rb = type.rounded(b)
        if ra.isNaN || rb.isNaN { return Int.max }
        func ordered(_ x: Float) -> Int {
            let bits = Int(type.encode(x)), signBit = 1 << (type.bitWidth - 1)
            let magnitude = bits & (signBit - 1)
            return bits & signBit != 0 ? -magnitude : magnitude
        }
        return Swift.abs(ordered(ra) - ordered(rb))
    }

    static func formatIndex(_ c: [Int]) -> String { "[" + c.map(String.init).joined(separator: ", ") + "]" }

    /// `printf`-style formatting of a number; non-finite values print as `inf`, `-inf`, `nan`.
    static func format(_ v: Double, _ spec: String = "%.2g") -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        return String(format: spec, v)
    }
}

/// A comparison's status and metrics: a value for reports (Codable), never a thrown error.
///
/// JSON: non-finite numbers (an infinite utilization, the maxima of a failing run) are
/// written as the strings `"inf"`, `"-inf"`, `"nan"` so a default `JSONEncoder` accepts
/// them; `summary` is written too (and ignored when decoding).
public struct ComparisonResult: Sendable, Equatable, Codable, CustomStringConvertible {
    public var status: ComparisonStatus = .skipped
    /// Why the status is not a plain pass (mismatch details, mistrust rule, skip cause,
    /// empty output); `nil` for a plain pass.
    public var reason: String?
    public var mode: ComparisonMode
    public var shape: [Int]
    public var accumulationLength: Int
    public var elementCount = 0
    public var mismatchedCount = 0
    public var zeroExpectedCount = 0
    /// max over elements of error / bound (≤ 1 passes in bound mode).
    public var boundUtilization = 0.0
    public var maxAbsError = 0.0
    public var maxRelError = 0.0
    public var maxULPDistance = 0
    /// The largest ULP distance where it means something: same sign, `|e|` above the
    /// element's bound (see `Comparison`); nil when no element qualifies.
    public var maxSignificantULPDistance: Int?
    /// Compared elements whose ULP distance is not significant (near zero or a sign change).
    public var insignificantULPCount = 0
    /// `Σ(a − e)² / Σe²`.
    public var nmse = 0.0
    /// Bound mode: max over elements of error / `ErrorBound.probabilistic` (the second
    /// opinion; above 1 while `boundUtilization ≤ 1` is suspicious), 0 in exact mode.
    public var probabilisticUtilization = 0.0
    /// Bound mode: elements whose error exceeds the probabilistic bound but not the worst case.
    public var suspiciousCount = 0
    /// Narrow output type: finite outputs that are not values of odt (never rounded to it).
    public var notRoundedCount = 0
    /// Narrow output type: ±Inf / NaN outputs where the exact value is within odt's range.
    public var overflowCount = 0
    /// The worst element (see `Comparison`), `nil` when every error is 0.
    public var worstIndex: Int?
    public var worstCoordinates: [Int]?
    public var worstActual: Double?
    public var worstExpected: Double?
    /// The worst element's bound (`nil` in exact mode without a magnitude).
    public var worstBound: Double?

    public init(mode: ComparisonMode, shape: [Int], accumulationLength: Int) {
        self.mode = mode
        self.shape = shape
        self.accumulationLength = accumulationLength
    }

    /// A check that was not run, with the cause (never reported as passed).
    public static func skipped(
        reason: String, mode: ComparisonMode, shape: [Int], accumulationLength: Int = 0
    ) -> ComparisonResult {
        var r = ComparisonResult(mode: mode, shape: shape, accumulationLength: accumulationLength)
        r.status = .skipped
        r.reason = reason
        r.elementCount = Shape.elementCount(shape) ?? 0
        return r
    }

    /// A non-finite value where a finite one (or another non-finite one) was expected: its
    /// error has no finite size, so the summary says `util=inf maxabs=inf`, not the largest
    /// error among the finite elements (which read as 0 when every element was NaN). The ULP
    /// maximum stays over the finite pairs.
    mutating func recordUnboundedError() {
        maxAbsError = .infinity
        maxRelError = .infinity
        boundUtilization = .infinity
    }

    mutating func setWorst(index: Int, actual: Float, expected: Double, bound: Double?) {
        worstIndex = index
        worstCoordinates = Comparison.coordinates(ofFlatIndex: index, shape: shape)
        worstActual = Double(actual)
        worstExpected = expected
        worstBound = bound
    }

    /// One line: `passed util=0.031 maxabs=1.2e-07 maxrel=3e-07 maxulp=3 nmse=4.1e-15
    /// mismatched=0/24 worst=[0, 3, 1, 2]`, then `: reason` when there is one.
    public var summary: String {
        var s = "\(status.rawValue)"
        if status != .skipped {
            s +=
                " util=\(Comparison.format(boundUtilization)) maxabs=\(Comparison.format(maxAbsError))"
                + " maxrel=\(Comparison.format(maxRelError)) maxulp=\(maxULPDistance) nmse=\(Comparison.format(nmse))"
                + " mismatched=\(mismatchedCount)/\(elementCount)"
            if mode.usesBound { s += " putil=\(Comparison.format(probabilisticUtilization))" }
            if suspiciousCount > 0 { s += " suspicious=\(suspiciousCount)" }
            if let c = worstCoordinates { s += " worst=\(Comparison.formatIndex(c))" }
        }
        if let reason { s += ": \(reason)" }
        return s
    }

    public var description: String { summary }

    // MARK: Codable (non-finite doubles as strings)

    enum CodingKeys: String, CodingKey {
        case status, reason, mode, shape, accumulationLength, elementCount, mismatchedCount, zeroExpectedCount
        case boundUtilization, maxAbsError, maxRelError, maxULPDistance, maxSignificantULPDistance
        case insignificantULPCount, nmse, probabilisticUtilization, suspiciousCount, notRoundedCount, overflowCount
        case worstIndex, worstCoordinates, worstActual, worstExpected, worstBound, summary
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func number(_ v: Double?, _ key: CodingKeys) throws {
            guard let v else { return }
            if v.isFinite { try c.encode(v, forKey: key) } else { try c.encode(Comparison.format(v), forKey: key) }
        }
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encode(mode, forKey: .mode)
        try c.encode(shape, forKey: .shape)
        try c.encode(accumulationLength, forKey: .accumulationLength)
        try c.encode(elementCount, forKey: .elementCount)
        try c.encode(mismatchedCount, forKey: .mismatchedCount)
        try c.encode(zeroExpectedCount, forKey: .zeroExpectedCount)
        try number(boundUtilization, .boundUtilization)
        try number(maxAbsError, .maxAbsError)
        try number(maxRelError, .maxRelError)
        try c.encode(maxULPDistance, forKey: .maxULPDistance)
        try c.encodeIfPresent(maxSignificantULPDistance, forKey: .maxSignificantULPDistance)
        try c.encode(insignificantULPCount, forKey: .insignificantULPCount)
        try number(nmse, .nmse)
        try number(probabilisticUtilization, .probabilisticUtilization)
        try c.encode(suspiciousCount, forKey: .suspiciousCount)
        // Written only where they occur (narrow outputs), so float32 documents keep their keys.
        if notRoundedCount > 0 { try c.encode(notRoundedCount, forKey: .notRoundedCount) }
        if overflowCount > 0 { try c.encode(overflowCount, forKey: .overflowCount) }
        try c.encodeIfPresent(worstIndex, forKey: .worstIndex)
        try c.encodeIfPresent(worstCoordinates, forKey: .worstCoordinates)
        try number(worstActual, .worstActual)
        try number(worstExpected, .worstExpected)
        try number(worstBound, .worstBound)
        try c.encode(summary, forKey: .summary)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func number(_ key: CodingKeys) throws -> Double? {
            guard c.contains(key), try !c.decodeNil(forKey: key) else { return nil }
            if let v = try? c.decode(Double.self, forKey: key) { return v }
            let text = try c.decode(String.self, forKey: key)
            switch text {
            case "inf": return .infinity
            case "-inf": return -.infinity
            case "nan": return .nan
            default:
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: "'\(text)' is not a number, inf, -inf or nan")
            }
        }
        mode = try c.decode(ComparisonMode.self, forKey: .mode)
        shape = try c.decode([Int].self, forKey: .shape)
        accumulationLength = try c.decode(Int.self, forKey: .accumulationLength)
        status = try c.decode(ComparisonStatus.self, forKey: .status)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        elementCount = try c.decode(Int.self, forKey: .elementCount)
        mismatchedCount = try c.decode(Int.self, forKey: .mismatchedCount)
        zeroExpectedCount = try c.decode(Int.self, forKey: .zeroExpectedCount)
        boundUtilization = try number(.boundUtilization) ?? 0
        maxAbsError = try number(.maxAbsError) ?? 0
        maxRelError = try number(.maxRelError) ?? 0
        maxULPDistance = try c.decode(Int.self, forKey: .maxULPDistance)
        maxSignificantULPDistance = try c.decodeIfPresent(Int.self, forKey: .maxSignificantULPDistance)
        insignificantULPCount = try c.decodeIfPresent(Int.self, forKey: .insignificantULPCount) ?? 0
        nmse = try number(.nmse) ?? 0
        // Absent in documents written before the probabilistic second opinion: 0, as then.
        probabilisticUtilization = try number(.probabilisticUtilization) ?? 0
        suspiciousCount = try c.decodeIfPresent(Int.self, forKey: .suspiciousCount) ?? 0
        notRoundedCount = try c.decodeIfPresent(Int.self, forKey: .notRoundedCount) ?? 0
        overflowCount = try c.decodeIfPresent(Int.self, forKey: .overflowCount) ?? 0
        worstIndex = try c.decodeIfPresent(Int.self, forKey: .worstIndex)
        worstCoordinates = try c.decodeIfPresent([Int].self, forKey: .worstCoordinates)
        worstActual = try number(.worstActual)
        worstExpected = try number(.worstExpected)
        worstBound = try number(.worstBound)
    }
}
