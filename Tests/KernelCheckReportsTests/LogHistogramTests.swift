import Testing

@testable import KernelCheckReports

@Suite struct LogHistogramTests {
    @Test func quantilesAreBinUpperEdgesCappedAtTheMaximum() throws {
        // Values 0, 0.0015, 0.002, 0.5 with 10 bins per decade:
        //   log10(0.0015) = −2.82 → bin −29 = [10^−2.9, 10^−2.8) = [0.00126, 0.00158)
        //   log10(0.002)  = −2.70 → bin −27 = [0.00200, 0.00251)
        //   log10(0.5)    = −0.30 → bin −4  = [0.398, 0.501)
        var h = LogHistogram(binsPerDecade: 10)
        for v in [0, 0.0015, 0.002, 0.5] { h.add(v) }
        #expect(h.counts == [-29: 1, -27: 1, -4: 1])
        #expect(h.zeros == 1 && h.total == 4 && h.max == 0.5)
        #expect(h.quantile(0.25) == 0)  // rank 1: the zero
        #expect(abs(try #require(h.quantile(0.5)) - 0.0015849) < 1e-6)  // rank 2: bin −29's upper edge 10^−2.8
        #expect(abs(try #require(h.quantile(0.75)) - 0.0025119) < 1e-6)  // rank 3: 10^−2.6
        #expect(h.quantile(0.99) == 0.5)  // rank 4: edge 0.501 capped at max
        #expect(LogHistogram().quantile(0.5) == nil)
    }

    @Test func nonFiniteValuesAreCountedNotDropped() {
        var h = LogHistogram(binsPerDecade: 4)
        h.add(0.1)
        h.add(.infinity)
        h.add(.nan)
        #expect(h.nonFinite == 2 && h.total == 3)
        #expect(h.quantile(0.9) == .infinity)
        #expect(Percentiles(h)?.max == .infinity)
    }

    @Test func mergingEqualsHistogrammingTheUnion() {
        let a = [1e-16, 3e-15, 0, 2e-14, 7e-3], b = [5e-16, 0, 0, 1.0, 9e-15]
        var ha = LogHistogram(), hb = LogHistogram(), hu = LogHistogram()
        for v in a { ha.add(v); hu.add(v) }
        for v in b { hb.add(v); hu.add(v) }
        #expect(ha.merged(with: hb) == hu)
        #expect(Percentiles(ha.merged(with: hb)) == Percentiles(hu))
    }
}
