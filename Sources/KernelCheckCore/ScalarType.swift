/// A floating-point storage type: IEEE binary32 and the narrow types kernels take today.
///
/// Each type is described by three numbers — the significand precision `p` (bits, the
/// implicit one included), the smallest normal exponent `e_min`, and the largest finite
/// value — from which rounding, unit roundoff and exact-integer range follow:
///
/// | type     | bits | p  | e_min | largest finite | Inf | unit roundoff u = 2⁻ᵖ |
/// |----------|------|----|-------|----------------|-----|------------------------|
/// | `f32`    | 32   | 24 | −126  | ≈ 3.40·10³⁸    | yes | 2⁻²⁴                   |
/// | `bf16`   | 16   | 8  | −126  | ≈ 3.39·10³⁸    | yes | 2⁻⁸                    |
/// | `f16`    | 16   | 11 | −14   | 65504          | yes | 2⁻¹¹                   |
/// | `f8e4m3` | 8    | 4  | −6    | 448            | no  | 2⁻⁴                    |
/// | `f8e5m2` | 8    | 3  | −14   | 57344          | yes | 2⁻³                    |
///
/// `f8e4m3` is the "fn" variant of the OCP FP8 specification (PyTorch's `float8_e4m3fn`):
/// no infinities, one NaN pattern per sign (`S.1111.111`), so `S.1111.110 = ±448` is the
/// largest finite value. `f8e5m2` follows IEEE 754 conventions (Inf and NaN like binary16).
public enum ScalarType: String, CaseIterable, Hashable, Sendable, Codable, CustomStringConvertible {
    case f32
    case bf16
    case f16
    case f8e4m3
    case f8e5m2

    public var description: String { rawValue }

    /// Significand precision in bits, the implicit leading one included.
    public var significandBits: Int {
        switch self {
        case .f32: return 24
        case .bf16: return 8
        case .f16: return 11
        case .f8e4m3: return 4
        case .f8e5m2: return 3
        }
    }

    /// The exponent of the smallest normal number (`2^e_min`).
    public var minimumNormalExponent: Int {
        switch self {
        case .f32, .bf16: return -126
        case .f16, .f8e5m2: return -14
        case .f8e4m3: return -6
        }
    }

    /// Bits of one stored element.
    public var bitWidth: Int {
        switch self {
        case .f32: return 32
        case .bf16, .f16: return 16
        case .f8e4m3, .f8e5m2: return 8
        }
    }

    /// Whether the type has ±Inf (all but `f8e4m3`, where an overflow becomes NaN).
    public var hasInfinity: Bool { self != .f8e4m3 }

    /// Unit roundoff `u = 2⁻ᵖ`: rounding to nearest changes a value in the normal range by at
    /// most `u·|x|`.
    public var unitRoundoff: Double { Double(sign: .plus, exponent: -significandBits, significand: 1) }

    /// The largest finite value.
    public var largestFinite: Double {
        switch self {
        case .f32: return Double(Float.greatestFiniteMagnitude)
        case .bf16: return Double(sign: .plus, exponent: 127, significand: 2 - 0x1p-7)
        case .f16: return 65504
        case .f8e4m3: return 448
        case .f8e5m2: return 57344
        }
    }

    /// The smallest positive (subnormal) value, `2^(e_min − p + 1)`: the absolute spacing of
    /// the subnormal range, where rounding error is absolute instead of relative.
    public var smallestSubnormal: Double {
        Double(sign: .plus, exponent: minimumNormalExponent - significandBits + 1, significand: 1)
    }

    /// Every integer of magnitude at most this (`2ᵖ`) is exactly representable.
    public var largestExactInteger: Int { 1 << significandBits }

    /// `x` rounded to the nearest value of this type, ties to even; a result beyond the
    /// largest finite value is ±Inf (or NaN for `f8e4m3`, which has no Inf). NaN stays NaN.
    ///
    /// The rounding is exact: `x` is scaled by a power of two to the integer grid of its
    /// binade (or of the subnormal range), rounded there, and scaled back, all in Double,
    /// where each step is exact for a Float argument.
    public func rounded(_ x: Float) -> Float {
        if self == .f32 || !x.isFinite || x == 0 {
            if x.isInfinite && !hasInfinity { return .nan }
            return x
        }
        let v = Double(x)
        let exponent = Swift.max(Int(v.exponent), minimumNormalExponent)
        let quantum = Double(sign: .plus, exponent: exponent - significandBits + 1, significand: 1)
        let r = (v / quantum).rounded(.toNearestOrEven) * quantum
        if Swift.abs(r) > largestFinite {
            return hasInfinity ? (r < 0 ? -.infinity : .infinity) : .nan
        }
        return Float(r)
    }

    /// Whether `x` is a value of this type (finite, or ±Inf where the type has it; NaN never).
    public func represents(_ x: Float) -> Bool {
        if x.isNaN { return false }
        if x.isInfinite { return hasInfinity }
        return rounded(x) == x
    }

    /// The stored bit pattern of `x` (rounded first), in the low `bitWidth` bits.
    public func encode(_ x: Float) -> UInt32 {
        let r = rounded(x)
        switch self {
        case .f32: return r.bitPattern
        case .bf16: return r.isNaN ? 0x7FC0 : r.bitPattern >> 16
        case .f16: return r.isNaN ? 0x7E00 : UInt32(Float16(r).bitPattern)
        case .f8e4m3, .f8e5m2: return UInt32(encodeFloat8(r))
        }
    }

    /// The value of a stored bit pattern (only the low `bitWidth` bits are read).
    public func decode(_ bits: UInt32) -> Float {
        switch self {
        case .f32: return Float(bitPattern: bits)
        case .bf16: return Float(bitPattern: (bits & 0xFFFF) << 16)
        case .f16: return Float(Float16(bitPattern: UInt16(truncatingIfNeeded: bits)))
        case .f8e4m3, .f8e5m2: return decodeFloat8(UInt8(truncatingIfNeeded: bits))
        }
    }

    private var mantissaBits: Int { significandBits - 1 }
    private var exponentBias: Int { 1 - minimumNormalExponent }

    private func decodeFloat8(_ b: UInt8) -> Float {
        let sign: Float = b & 0x80 != 0 ? -1 : 1
        let m = Int(b) & ((1 << mantissaBits) - 1)
        let e = (Int(b) >> mantissaBits) & ((1 << (7 - mantissaBits)) - 1)
        let maxE = (1 << (7 - mantissaBits)) - 1
        if self == .f8e4m3 && e == maxE && m == (1 << mantissaBits) - 1 { return .nan }
        if self == .f8e5m2 && e == maxE { return m == 0 ? sign * .infinity : .nan }
        let significand = Float(e == 0 ? m : (1 << mantissaBits) + m)
        let scale = Float(sign: .plus, exponent: Swift.max(e, 1) - exponentBias - mantissaBits, significand: 1)
        return sign * significand * scale
    }

    private func encodeFloat8(_ r: Float) -> UInt8 {
        let sign: UInt8 = r.sign == .minus ? 0x80 : 0
        if r.isNaN { return self == .f8e4m3 ? 0x7F : 0x7E }
        if r.isInfinite { return sign | 0x7C }  // e5m2 only: e4m3 rounds overflow to NaN
        let a = Swift.abs(r)
        if a == 0 { return sign }
        let exponent = Swift.max(Int(a.exponent), minimumNormalExponent)
        let scaled = Int(Double(a) / Double(sign: .plus, exponent: exponent - mantissaBits, significand: 1))
        // `scaled` is the significand as an integer: 2^mantissaBits … 2^(mantissaBits+1) − 1 when
        // normal, smaller when subnormal (then the biased exponent field is 0).
        let normal = scaled >= 1 << mantissaBits
        let field = normal ? exponent + exponentBias : 0
        let mantissa = scaled & ((1 << mantissaBits) - 1)
        return sign | UInt8(field << mantissaBits | mantissa)
    }
}
