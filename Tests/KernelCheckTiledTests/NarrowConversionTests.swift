import KernelCheckCore
import KernelCheckTestSupport
import Testing

@testable import KernelCheckTiled

// The conversions around the low-precision kernels against `ScalarType` (exact, scalar):
// widening every bit pattern, and the fast output rounding on hand-picked ties, overflow,
// subnormals, NaN and a seeded sweep.

@Suite("Narrow conversion")
struct NarrowConversionTests {
    /// Every pattern of a type (all 2¹⁶ for bf16 / f16, all 256 for fp8), little-endian.
    static func allPatterns(_ type: ScalarType) -> [UInt8] {
        let count = 1 << type.bitWidth
        var bytes = [UInt8](repeating: 0, count: count * type.byteWidth)
        for i in 0..<count {
            for b in 0..<type.byteWidth { bytes[i * type.byteWidth + b] = UInt8(truncatingIfNeeded: i >> (8 * b)) }
        }
        return bytes
    }

    @Test("widening gives ScalarType.decode for every pattern", arguments: [ScalarType.bf16, .f16, .f8e4m3, .f8e5m2])
    func widenEveryPattern(type: ScalarType) {
        let bytes = Self.allPatterns(type)
        let count = 1 << type.bitWidth
        var out = [Float](repeating: sentinel, count: count)
        bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer {
                Tiled.widen(Tiled.Input(bits: raw.baseAddress!, type: type), count: count, into: $0.baseAddress!)
            }
        }
        for i in 0..<count {
            let want = type.decode(UInt32(i))
            let same = want.isNaN ? out[i].isNaN : out[i].bitPattern == want.bitPattern
            #expect(same, "\(type) pattern \(i): widened \(out[i]), decode gives \(want)")
            if !same { return }
        }
    }

    /// `roundOutput` on `values` (in chunks over `threads`) against `ScalarType.rounded`.
    static func expectRoundsLikeScalarType(_ values: [Float], _ type: ScalarType, threads: Int = 1) {
        var y = values
        y.withUnsafeMutableBufferPointer {
            Tiled.roundOutput($0.baseAddress!, count: $0.count, to: type, threads: threads)
        }
        for (x, got) in zip(values, y) {
            let want = type.rounded(x)
            let same = want.isNaN ? got.isNaN : got.bitPattern == want.bitPattern
            #expect(same, "\(type): \(x) (0x\(String(x.bitPattern, radix: 16))) rounded to \(got), expected \(want)")
            if !same { return }
        }
    }

    @Test("bf16 rounding: ties to even, carries, overflow to Inf, NaN stays NaN")
    func bf16HandPicked() {
        // bf16 keeps 7 fraction bits: at 1 the spacing is 2⁻⁷.
        let one = Float(1)
        let values: [Float] = [
            one + 0x1p-8,  // a tie between 1 and 1 + 2⁻⁷: the even neighbour is 1
            one + 3 * 0x1p-8,  // a tie between 1 + 2⁻⁷ (odd) and 1 + 2⁻⁶ (even)
            one + 0x1p-8 + 0x1p-20,  // just above the tie: up
            Float(bitPattern: 0x7F7F_8000),  // largest finite bf16 + half its spacing, a tie to odd: Inf
            -Float(bitPattern: 0x7F7F_7FFF),  // just under that tie: stays −largest
            .nan, -.infinity, 0x1p-130 + 0x1p-140,
        ]
        let want: [Float] = [
            1, one + 0x1p-6, one + 0x1p-7, .infinity, -Float(bitPattern: 0x7F7F_0000), .nan, -.infinity, 0x1p-130,
        ]
        var y = values
        y.withUnsafeMutableBufferPointer { Tiled.roundOutput($0.baseAddress!, count: $0.count, to: .bf16, threads: 1) }
        for (got, w) in zip(y, want) {
            #expect(w.isNaN ? got.isNaN : got == w, "bf16: got \(got), expected \(w)")
        }
        #expect(y[5].isNaN && y[5].bitPattern & 0xFFFF == 0, "a NaN keeps no bits below bf16's")
        Self.expectRoundsLikeScalarType(values, .bf16)
    }

    @Test("f16 rounding: ties to even, overflow past 65520 to Inf, subnormals")
    func f16HandPicked() {
        // f16 spacing at 1 is 2⁻¹⁰; 65504 is the largest finite and 65520 the tie above it.
        let values: [Float] = [1 + 0x1p-11, 1 + 3 * 0x1p-11, 65519, 65520, -65520, 0x1p-25, 0x1p-25 + 0x1p-30, 0x1p-26]
        var y = values
        y.withUnsafeMutableBufferPointer { Tiled.roundOutput($0.baseAddress!, count: $0.count, to: .f16, threads: 1) }
        #expect(y == [1, 1 + 0x1p-9, 65504, .infinity, -.infinity, 0, 0x1p-24, 0])
        Self.expectRoundsLikeScalarType(values, .f16)
    }

    @Test(
        "every midpoint between neighbouring values, and the floats either side, rounds like ScalarType.rounded",
        arguments: [ScalarType.bf16, .f16, .f8e4m3, .f8e5m2])
    func midpoints(type: ScalarType) {
        // The non-negative finite values in increasing order (patterns 0, 1, 2, … up to the
        // largest finite), then one spacing past the largest: the overflow tie.
        let values = (0..<(1 << (type.bitWidth - 1))).map { type.decode(UInt32($0)) }.filter(\.isFinite)
        var probes: [Float] = []
        for (a, b) in zip(values, values.dropFirst() + [values.last! + (values.last! - values[values.count - 2])]) {
            let mid = (a + b) / 2  // exact: one bit more than the type holds
            for x in [mid, mid.nextDown, mid.nextUp] { probes += [x, -x] }
        }
        Self.expectRoundsLikeScalarType(probes, type)
    }

    @Test("a seeded sweep over every binade rounds like ScalarType.rounded", arguments: ScalarType.allCases)
    func sweep(type: ScalarType) {
        // Random bit patterns cover every exponent (subnormal, normal, overflowing, Inf, NaN).
        var rng = SeededRNG(seed: 20_261_206, stream: "round-\(type)")
        let values = (0..<70_000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        Self.expectRoundsLikeScalarType(values, type, threads: 2)
    }
}
