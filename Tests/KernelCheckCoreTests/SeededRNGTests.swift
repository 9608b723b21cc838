import Foundation
import Testing

@testable import KernelCheckCore

@Suite struct SeededRNGTests {
    /// Values and checksum printed by tools/xoshiro_reference.py, an independent Python model
    /// of xoshiro256** seeded through SplitMix64.
    @Test func firstValuesMatchIndependentModel() {
        var rng = SeededRNG(seed: 42)
        #expect(rng.next() == 0x1578_0B2E_0C2E_C716)
        #expect(rng.next() == 0x6104_D986_6D11_3A7E)
        #expect(rng.next() == 0xAE17_5332_39E4_99A1)
        var zero = SeededRNG(seed: 0)
        #expect(zero.next() == 0x99EC_5F36_CB75_F2B4)
    }

    @Test func checksumOfFirstThousandValuesIsPinned() {
        var rng = SeededRNG(seed: 42)
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for _ in 0..<1000 {
            h ^= rng.next()
            h &*= 0x0000_0100_0000_01B3
        }
        #expect(h == 0xA554_1E47_9E0E_53C0)
    }

    @Test func streamsAreIndependentAndStable() {
        var a = SeededRNG(seed: 7, stream: "x"), b = SeededRNG(seed: 7, stream: "x"),
            c = SeededRNG(seed: 7, stream: "w")
        let va = (0..<5).map { _ in a.next() }, vb = (0..<5).map { _ in b.next() }, vc = (0..<5).map { _ in c.next() }
        #expect(va == vb)
        #expect(va != vc)
        // FNV-1a of "x": 0xcbf29ce484222325 ^ 0x78, times the FNV prime.
        let expected: UInt64 = (0xCBF2_9CE4_8422_2325 ^ 0x78) &* 0x0000_0100_0000_01B3
        #expect(SeededRNG.fnv1a("x") == expected)
    }

    @Test func unitDoublesAndIntsStayInRange() {
        var rng = SeededRNG(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<10_000 {
            let u = rng.nextUnitDouble()
            #expect(u >= 0 && u < 1)
            let i = rng.nextInt(in: -3...3)
            #expect((-3...3).contains(i))
            seen.insert(i)
        }
        #expect(seen.count == 7)
    }

    @Test func portableLogAgreesWithLibm() {
        var rng = SeededRNG(seed: 3)
        for _ in 0..<2000 {
            let x = rng.nextUnitDouble() * 10 + 1e-300
            let ours = SeededRNG.portableLog(x), libm = Foundation.log(x)
            // A few ulp: the series is accurate, e·ln 2 + 2·atanh(t) rounds twice.
            #expect(Swift.abs(ours - libm) <= 1e-15 * Swift.max(1, Swift.abs(libm)), "log(\(x)): \(ours) vs \(libm)")
        }
        #expect(SeededRNG.portableLog(1) == 0)
    }

    @Test func normalSamplesHaveUnitMoments() {
        var rng = SeededRNG(seed: 11)
        let n = 20_000
        let xs = (0..<n).map { _ in rng.nextNormal() }
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        // Standard errors: 1/√n ≈ 0.007 for the mean, √(2/n) ≈ 0.01 for the variance.
        #expect(Swift.abs(mean) < 0.04)
        #expect(Swift.abs(variance - 1) < 0.05)
    }
}
