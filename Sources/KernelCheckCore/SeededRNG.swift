/// A seeded, portable pseudo-random generator: xoshiro256** seeded through SplitMix64.
///
/// The same seed gives the same sequence on every machine and every Swift version, because
/// the algorithm is ours and uses only integer arithmetic (Swift's own generators are not
/// specified to be stable, and `SystemRandomNumberGenerator` is never used in KernelCheck).
public struct SeededRNG: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// Seeds the four state words from `seed` through SplitMix64, as the xoshiro authors
    /// recommend (never leaves the all-zero state).
    public init(seed: UInt64) {
        var sm = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
    }

    /// An independent stream for one named purpose (e.g. the tensor role `"w"`) under a case
    /// seed: the name is hashed with FNV-1a so adding a role never shifts another's values.
    public init(seed: UInt64, stream: String) {
        self.init(seed: seed ^ SeededRNG.fnv1a(stream))
    }

    /// 64-bit FNV-1a hash of the UTF-8 bytes; stable across platforms (unlike `Hasher`).
    public static func fnv1a(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01B3
        }
        return h
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in `range` (Lemire's unbiased multiply-shift; portable).
    public mutating func nextInt(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound)) &+ 1
        if span == 0 { return Int(truncatingIfNeeded: next()) }
        var m = next().multipliedFullWidth(by: span)
        if m.low < span {
            let threshold = (0 &- span) % span
            while m.low < threshold { m = next().multipliedFullWidth(by: span) }
        }
        return range.lowerBound &+ Int(truncatingIfNeeded: m.high)
    }

    /// Standard normal via Marsaglia's polar method, using `portableLog` so the values do
    /// not depend on the platform's libm.
    public mutating func nextNormal() -> Double {
        while true {
            let u = 2 * nextUnitDouble() - 1
            let v = 2 * nextUnitDouble() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                return u * (-2 * SeededRNG.portableLog(s) / s).squareRoot()
            }
        }
    }

    /// Natural logarithm from IEEE basic operations only (exactly reproducible):
    /// `x = m·2ᵉ`, `ln x = e·ln 2 + 2·atanh((m−1)/(m+1))`, the series summed to full precision.
    public static func portableLog(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite)
        var m = x.significand  // in [1, 2)
        var e = Double(x.exponent)
        if m > 1.4142135623730951 { m /= 2; e += 1 }  // m in [0.707, 1.414]: t ≤ 0.172
        let t = (m - 1) / (m + 1)
        let t2 = t * t
        var term = t, sum = 0.0, k = 1.0
        while true {
            let next = sum + term / k
            if next == sum { break }
            sum = next
            term *= t2
            k += 2
        }
        return e * 0.6931471805599453 + 2 * sum
    }
}
