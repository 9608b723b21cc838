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
