import Testing

@testable import KernelCheckCore

@Suite struct FillTests {
    @Test(arguments: ["uniform(-1,1)", "normal(0,1)", "int(3,0.5)", "uniform(0.5,2)", "normal(0.25,1e-05)"])
    func textRoundTrips(_ text: String) throws {
        let fill = try #require(Fill(text))
        #expect(fill.description == text)
        #expect(Fill(fill.description) == fill)
    }

    @Test(arguments: ["uniform(1,-1)", "int(-1,0.5)", "int(3,2)", "normal(0)", "gauss(0,1)", "uniform(0,inf)", ""])
    func malformedTextIsRejected(_ text: String) {
        #expect(Fill(text) == nil)
    }

    @Test func integerFillRespectsRangeAndDensity() {
        let t: Tensor<Float> = Fill.integers(k: 3, density: 0.25).tensor([100, 100], seed: 5, role: "x")
        #expect(t.storage.allSatisfy { $0 == $0.rounded() && Swift.abs($0) <= 3 })
        // Nonzero fraction ≈ density·6/7 (a kept draw is 0 with probability 1/7).
        let nonzero = Double(t.storage.filter { $0 != 0 }.count) / 10_000
        #expect(Swift.abs(nonzero - 0.25 * 6 / 7) < 0.02)
    }

    @Test func sameSeedSameBytes() {
        let a: Tensor<Float> = Fill.normal(mean: 0, std: 1).tensor([7, 9], seed: 99, role: "w")
        let b: Tensor<Float> = Fill.normal(mean: 0, std: 1).tensor([7, 9], seed: 99, role: "w")
        let c: Tensor<Float> = Fill.normal(mean: 0, std: 1).tensor([7, 9], seed: 99, role: "x")
        #expect(a.storage.map(\.bitPattern) == b.storage.map(\.bitPattern))
        #expect(a != c)
    }

    @Test func exactFillKeepsSumsBelowTwoToTheTwentyFour() {
        for k in [1, 10, 1000, 100_000, 1_000_000] {
            guard case .integers(let m, _) = Fill.exact(accumulationLength: k) else {
                Issue.record("not integer"); continue
            }
            #expect(k * m * m + m < 1 << 24 || m == 1, "K=\(k) m=\(m)")
        }
    }
}

@Suite struct ExactFillPerPrecisionTests {
    /// `K·k² + k < 2ᵖ` of the accumulator, `k ≤ 4`: for f16 (2048) by hand, 100·16 + 4 = 1604,
    /// 200·9 + 3 = 1803, 500·4 + 2 = 2002, 2046·1 + 1 = 2047 — and K = 2047 leaves no k.
    @Test(arguments: [
        (100, 4), (127, 4), (128, 3), (200, 3), (227, 3), (228, 2), (500, 2), (511, 2), (512, 1), (2046, 1),
    ])
    func f16AccumulatorChoosesTheLargestExactK(_ length: Int, _ k: Int) {
        #expect(
            Fill.exact(accumulationLength: length, storage: .f16, accumulation: .f16) == .integers(k: k, density: 1))
    }

    @Test func f16AccumulatorRefusesOnceK1CannotBeExact() {
        #expect(Fill.exact(accumulationLength: 2047, storage: .f16, accumulation: .f16) == nil)
        #expect(Fill.exact(accumulationLength: 1 << 20, storage: .f8e5m2, accumulation: .f16) == nil)
    }

    /// The storage type caps k at its exact integers (e5m2: 8), and an f32 accumulator keeps
    /// float32's choice.
    @Test func storageAndF32AccumulatorMatchTheFloat32Rule() {
        #expect(
            Fill.exact(accumulationLength: 10, storage: .f8e5m2, accumulation: .f32, maxK: 100)
                == .integers(k: 8, density: 1))
        for length in [1, 1000, 1_000_000] {
            #expect(
                Fill.exact(accumulationLength: length, storage: .bf16, accumulation: .f32)
                    == Fill.exact(accumulationLength: length, density: 1))
        }
    }
}
