import Testing

@testable import KernelCheckCore

/// Expected values are hand-derived from each format's definition (sign, exponent bias,
/// mantissa bits), not from the code under test.
@Suite struct ScalarTypeTests {
    @Test func unitRoundoffAndRanges() {
        #expect(ScalarType.f32.unitRoundoff == 0x1p-24)
        #expect(ScalarType.bf16.unitRoundoff == 0x1p-8)
        #expect(ScalarType.f16.unitRoundoff == 0x1p-11)
        #expect(ScalarType.f8e4m3.unitRoundoff == 0x1p-4)
        #expect(ScalarType.f8e5m2.unitRoundoff == 0x1p-3)
        #expect(ScalarType.f16.largestFinite == 65504)
        #expect(ScalarType.bf16.largestFinite == Double(Float(bitPattern: 0x7F7F_0000)))
        #expect(ScalarType.f8e4m3.smallestSubnormal == 0x1p-9)
        #expect(ScalarType.f8e5m2.smallestSubnormal == 0x1p-16)
        #expect(ScalarType.f16.smallestSubnormal == 0x1p-24)
        #expect(ScalarType.bf16.smallestSubnormal == 0x1p-133)
        #expect(ScalarType.f8e4m3.largestExactInteger == 16)
        #expect(ScalarType.bf16.largestExactInteger == 256)
    }

    /// Round to nearest, ties to even: 1 + 2⁻⁸ lies halfway between the bf16 neighbours 1 and
    /// 1 + 2⁻⁷ and goes to 1 (even mantissa); 1 + 3·2⁻⁸ goes up to 1 + 2⁻⁶.
    @Test func roundsToNearestEven() {
        #expect(ScalarType.bf16.rounded(1 + 0x1p-8) == 1)
        #expect(ScalarType.bf16.rounded(1 + 3 * 0x1p-8) == 1 + 0x1p-6)
        #expect(ScalarType.bf16.rounded(1 + 0x1p-8 + 0x1p-20) == 1 + 0x1p-7)
        #expect(ScalarType.f16.rounded(2049) == 2048)
        #expect(ScalarType.f16.rounded(2051) == 2052)
        // e4m3: 3 mantissa bits; between 16 and 18 the midpoint 17 goes to 16 (even).
        #expect(ScalarType.f8e4m3.rounded(17) == 16)
        #expect(ScalarType.f8e4m3.rounded(17.5) == 18)
        // e5m2: 2 mantissa bits; 1.125 is the midpoint of 1 and 1.25 → 1.
        #expect(ScalarType.f8e5m2.rounded(1.125) == 1)
        #expect(ScalarType.f8e5m2.rounded(-1.2) == -1.25)
        // Subnormals round on the absolute grid 2^-9 (e4m3): 1.5·2^-9 → 2·2^-9.
        #expect(ScalarType.f8e4m3.rounded(1.5 * 0x1p-9) == 0x1p-8)
        #expect(ScalarType.f8e4m3.rounded(0.5 * 0x1p-9) == 0)
    }

    @Test func overflowGivesInfinityOrNaN() {
        #expect(ScalarType.f16.rounded(65519) == 65504)
        #expect(ScalarType.f16.rounded(65520) == .infinity)  // midpoint to 2^16 rounds to even → Inf
        #expect(ScalarType.f8e5m2.rounded(-61440) == -.infinity)
        #expect(ScalarType.f8e4m3.rounded(464) == 448)  // midpoint of 448 and 480 → even 448
        #expect(ScalarType.f8e4m3.rounded(465).isNaN)
        #expect(ScalarType.f8e4m3.rounded(.infinity).isNaN)
        #expect(ScalarType.bf16.rounded(.infinity) == .infinity)
    }

    @Test func bitPatterns() {
        #expect(ScalarType.bf16.encode(1) == 0x3F80)
        #expect(ScalarType.bf16.encode(-2) == 0xC000)
        #expect(ScalarType.f16.encode(1) == 0x3C00)
        #expect(ScalarType.f16.encode(65504) == 0x7BFF)
        #expect(ScalarType.f8e4m3.encode(1) == 0x38)  // exponent 7 (bias 7) << 3
        #expect(ScalarType.f8e4m3.encode(448) == 0x7E)
        #expect(ScalarType.f8e4m3.encode(-0x1p-9) == 0x81)
        #expect(ScalarType.f8e5m2.encode(1) == 0x3C)  // exponent 15 (bias 15) << 2
        #expect(ScalarType.f8e5m2.encode(57344) == 0x7B)
        #expect(ScalarType.f8e5m2.encode(.infinity) == 0x7C)
        #expect(ScalarType.f8e4m3.decode(0x7F).isNaN)
        #expect(ScalarType.f8e4m3.decode(0xFF).isNaN)
        #expect(ScalarType.f8e5m2.decode(0x7D).isNaN)
        #expect(ScalarType.f8e5m2.decode(0xFC) == -.infinity)
    }

    /// Every 8-bit pattern decodes to a value that encodes back to the same pattern (NaNs to
    /// the canonical NaN), and every bf16 / f16 pattern likewise.
    @Test(arguments: [ScalarType.f8e4m3, .f8e5m2, .bf16, .f16])
    func everyPatternRoundTrips(_ type: ScalarType) {
        let count: UInt32 = type.bitWidth == 8 ? 256 : 65536
        var bad = 0
        for bits in 0..<count {
            let v = type.decode(bits)
            if v.isNaN {
                if !type.decode(type.encode(v)).isNaN { bad += 1 }
            } else if type.encode(v) != bits || !type.represents(v) {
                bad += 1
            }
        }
        #expect(bad == 0)
    }

    @Test func representsOnlyItsOwnValues() {
        #expect(ScalarType.bf16.represents(1 + 0x1p-7))
        #expect(!ScalarType.bf16.represents(1 + 0x1p-8))
        #expect(!ScalarType.f8e4m3.represents(.infinity))
        #expect(ScalarType.f8e5m2.represents(-.infinity))
        #expect(!ScalarType.f16.represents(.nan))
    }
}

@Suite struct ScalarTypeBufferTests {
    @Test func bufferRoundTripAndFirstUnrepresentable() {
        let values: [Float] = [1, -0.5, 0x1p-9, 448]
        for type in ScalarType.allCases {
            let bytes = type.encode(values)
            #expect(bytes.count == values.count * type.byteWidth)
            let back = bytes.withUnsafeBytes { type.decode(bytes: $0) }
            #expect(back == values.map(type.rounded), "\(type)")
        }
        #expect(ScalarType.bf16.encode([Float(1)]) == [0x80, 0x3F])  // little-endian 0x3F80
        #expect(ScalarType.bf16.firstUnrepresentable(in: [1, 2, 1 + 0x1p-9, 3]) == 2)
        #expect(ScalarType.f8e4m3.firstUnrepresentable(in: [1, 2, 3]) == nil)
    }
}
