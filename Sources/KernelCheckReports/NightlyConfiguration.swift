import Foundation
import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckTiled
import KernelCheckVerification

/// A benchmark layer: a label, a problem and the directions to time.
public struct NightlyBenchCase: Sendable {
    public var label: String
    public var problem: Problem
    public var directions: [Direction]

    public init(label: String, problem: Problem, directions: [Direction]) {
        self.label = label
        self.problem = problem
        self.directions = directions
    }

    /// `Benchmark.standardCases`: the layers of `kernelcheck bench`.
    public static var standard: [NightlyBenchCase] {
        Benchmark.standardCases.map {
            NightlyBenchCase(label: $0.label, problem: $0.problem, directions: $0.directions)
        }
    }
}

/// The parts of a nightly run.
public enum NightlyPhase: String, CaseIterable, Sendable {
    case fixtures, sweep, gradients, bench
}

/// What a nightly run checks and how long it may take.
public struct NightlyConfiguration: Sendable {
    public var seed: UInt64
    /// "date" (UTC yyyymmdd) or "given".
    public var seedSource: String
    public var budgetSeconds: Double
    public var shard = 0
    public var shardCount = 1
    /// Fixture files, in a fixed order (shard `i` takes the files with index ≡ i mod n).
    public var fixtureFiles: [String] = []
    /// Prefix stripped from fixture paths in replay commands (the repository root).
    public var displayRoot: String?
    /// Every implementation runs the fixtures and the gradient checks; every one but the
    /// reference runs the random sweeps (the reference against itself proves nothing).
    public var implementations: [any KernelImplementation]
    public var families: [OpFamily] = OpFamily.allCases
    /// The precision axis of the random sweeps, by `Sweep.precisions`' rule (the same as
    /// `kernelcheck check --dtype`): problem `i` of an op with low-precision support (conv,
    /// conv_transpose, matmul, linear) takes `precisions[(i / families) mod count]`; the others
    /// stay float32, and are not drawn when the list lacks float32. Fixtures carry their own precision; gradient checks stay
    /// float32 (a finite difference of a rounded output measures the rounding).
    public var precisions: [Precision] = NightlyConfiguration.allPrecisions
    /// Small random problems per sweep mode (exact and bound), before sharding.
    public var sweepCases = 20_000
    /// Medium random problems per sweep mode (larger shapes: several cache blocks of the
    /// tiled kernels), before sharding.
    public var mediumCases = 3_000
    /// Large random problems (exact mode only: past the bands, panel blocks and GEMM blocks
    /// that smaller classes never reach), before sharding. Off unless asked for (a large
    /// problem takes seconds even in a release build; the scheduled nightly asks for them).
    public var largeCases = 0
    /// Random problems whose backward passes are checked by finite differences.
    public var gradientCases = 2_000
    public var benchCases: [NightlyBenchCase] = NightlyBenchCase.standard
    public var benchRuns = 5
    /// Thread counts of the benchmarks (0 = all cores).
    public var benchThreads = [1, 0]
    public var phases = Set(NightlyPhase.allCases)
    public var shrink = true

    public init(seed: UInt64, seedSource: String, budgetSeconds: Double, implementations: [any KernelImplementation]) {
        self.seed = seed
        self.seedSource = seedSource
        self.budgetSeconds = budgetSeconds
        self.implementations = implementations
    }

    /// Every input type with its default accumulation and output, plus accumulation in f16.
    public static let allPrecisions: [Precision] =
        ScalarType.allCases.map { Precision(storage: $0) } + [Precision(storage: .f16, accumulation: .f16)]

    /// The seed of a UTC date: `yyyymmdd` as a number (2026-11-27 → 20261127).
    public static func dateSeed(_ date: Date = Date()) -> UInt64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return UInt64(c.year! * 10_000 + c.month! * 100 + c.day!)
    }

    /// The longest `--budget` accepted: 24 hours.
    public static let maximumBudgetSeconds = 86_400.0

    /// Parses `15m`, `90s`, `1h`, `1h30m` or a plain number of seconds; nil for anything
    /// else, and for a non-finite result (`nan`, `inf`, `1e999`).
    public static func parseDuration(_ text: String) -> Double? {
        guard let value = parseDurationUnchecked(text), value.isFinite, value >= 0 else { return nil }
        return value
    }

    static func parseDurationUnchecked(_ text: String) -> Double? {
        if let plain = Double(text) { return plain }
        var total = 0.0, number = ""
        for ch in text {
            if ch.isNumber || ch == "." { number.append(ch); continue }
            guard let v = Double(number) else { return nil }
            switch ch {
            case "h": total += v * 3600
            case "m": total += v * 60
            case "s": total += v
            default: return nil
            }
            number = ""
        }
        return number.isEmpty && !text.isEmpty ? total : nil
    }
}
