import Foundation

/// A mergeable histogram of non-negative values on a log scale: `binsPerDecade` bins per
/// power of ten, bin `i` holding values in `[10^(i/b), 10^((i+1)/b))`, plus exact counts of
/// zeros and of non-finite values, and the exact maximum.
///
/// Why a histogram and not the samples: shard reports merge by adding counts, so the merged
/// report's percentiles are exactly those the unsharded run would report, and a nightly of
/// tens of thousands of cases stays a small JSON file. The price is resolution: a percentile
/// is reported as the upper edge of its bin, at most a factor `10^(1/b)` above the true
/// value (≈ 1.26 for b = 10), never below it.
public struct LogHistogram: Codable, Sendable, Equatable {
    public var binsPerDecade: Int
    /// Sparse counts by bin index (`floor(b · log10 v)`), only bins that hold a value.
    public var counts: [Int: Int]
    public var zeros: Int
    /// +∞ and NaN values: never dropped, counted apart (they sit above every bin).
    public var nonFinite: Int
    /// Largest finite value (0 when there is none).
    public var max: Double

    public init(binsPerDecade: Int = 10) {
        self.binsPerDecade = binsPerDecade
        counts = [:]
        zeros = 0
        nonFinite = 0
        max = 0
    }

    public var total: Int { zeros + nonFinite + counts.values.reduce(0, +) }

    public static func bin(of value: Double, binsPerDecade: Int) -> Int {
        Int((Double(binsPerDecade) * log10(value)).rounded(.down))
    }

    /// Lower edge of bin `i`.
    public func lowerEdge(_ i: Int) -> Double { pow(10, Double(i) / Double(binsPerDecade)) }
    /// Upper edge of bin `i`.
    public func upperEdge(_ i: Int) -> Double { pow(10, Double(i + 1) / Double(binsPerDecade)) }

    public mutating func add(_ value: Double) {
        if !value.isFinite { nonFinite += 1; return }
        let v = Swift.abs(value)
        if v == 0 { zeros += 1; return }
        counts[Self.bin(of: v, binsPerDecade: binsPerDecade), default: 0] += 1
        max = Swift.max(max, v)
    }

    /// The sum of two histograms of the same resolution.
    public func merged(with other: LogHistogram) -> LogHistogram {
        precondition(binsPerDecade == other.binsPerDecade, "histograms of different resolution")
        var out = self
        for (i, c) in other.counts { out.counts[i, default: 0] += c }
        out.zeros += other.zeros
        out.nonFinite += other.nonFinite
        out.max = Swift.max(max, other.max)
        return out
    }

    /// The `p`-quantile (0 < p ≤ 1): the smallest value v such that at least `⌈p·n⌉` values
    /// are ≤ v, rounded up to its bin's upper edge (capped at the exact maximum); +∞ when it
    /// falls among the non-finite values; nil for an empty histogram.
    public func quantile(_ p: Double) -> Double? {
        let n = total
        guard n > 0 else { return nil }
        let rank = Swift.max(1, Int((p * Double(n)).rounded(.up)))
        var seen = zeros
        if seen >= rank { return 0 }
        for i in counts.keys.sorted() {
            seen += counts[i]!
            if seen >= rank { return Swift.min(upperEdge(i), max) }
        }
        return .infinity
    }
}

/// The percentiles a report shows for a histogram's values.
public struct Percentiles: Codable, Sendable, Equatable {
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double

    public init(p50: Double, p90: Double, p99: Double, max: Double) {
        self.p50 = p50; self.p90 = p90; self.p99 = p99; self.max = max
    }

    /// From a histogram (nil when it is empty); `max` is +∞ when a non-finite value was seen.
    public init?(_ h: LogHistogram) {
        guard let p50 = h.quantile(0.5), let p90 = h.quantile(0.9), let p99 = h.quantile(0.99) else { return nil }
        self.init(p50: p50, p90: p90, p99: p99, max: h.nonFinite > 0 ? .infinity : h.max)
    }
}
