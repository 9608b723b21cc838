import Foundation
import KernelCheckCore
import KernelCheckProblems

/// A randomized sweep: random valid problems of the chosen families, every chosen direction,
/// one implementation, each failure shrunk to a minimal problem with a replay command.
public struct Sweep: Sendable {
    public var families: [OpFamily]
    /// Directions to check (all a problem offers when nil).
    public var directions: Set<Direction>?
    /// Number of random problems (each checked in every selected direction).
    public var cases: Int
    public var seed: UInt64
    public var mode: ComparisonMode
    public var size: GeneratorSize
    public var checker: CaseChecker
    /// Shrink failures to minimal problems (costs extra runs).
    public var shrink: Bool
    /// Stop drawing new problems after this many seconds.
    public var timeBudget: Double?
    /// Checks only the problems with index ≡ shard (mod shardCount): n shards with the same
    /// seed run exactly the problems of the unsharded sweep.
    public var shard: Int
    public var shardCount: Int
    /// The number formats to cover (`--dtype`): problem `i` of a family that accepts them
    /// gets `precisions[(i / families.count) % precisions.count]`, so every precision gets an
    /// equal share of every family; float32-only families stay float32 (and are not drawn at
    /// all when the list lacks float32).
    public var precisions: [Precision]

    public init(
        families: [OpFamily] = OpFamily.allCases, directions: Set<Direction>? = nil, cases: Int, seed: UInt64,
        mode: ComparisonMode, size: GeneratorSize = .small, checker: CaseChecker, shrink: Bool = true,
        timeBudget: Double? = nil, shard: Int = 0, shardCount: Int = 1, precisions: [Precision] = [.float32]
    ) {
        let precisions = precisions.isEmpty ? [.float32] : precisions
        let families = precisions.contains(.float32) ? families : families.filter { $0.acceptsLowPrecision }
        self.families = families
        self.directions = directions
        self.cases = cases
        self.seed = seed
        self.mode = mode
        self.size = size
        self.checker = checker
        self.shrink = shrink
        self.timeBudget = timeBudget
        self.shard = shard
        self.shardCount = shardCount
        self.precisions = precisions
    }

    /// A failure, before and after shrinking.
    public struct Failure: Codable, Sendable {
        public var original: CaseOutcome
        public var shrunk: CaseOutcome
        public var shrinkSteps: Int
        public var replay: String { shrunk.replayCommand }

        public init(original: CaseOutcome, shrunk: CaseOutcome, shrinkSteps: Int) {
            self.original = original
            self.shrunk = shrunk
            self.shrinkSteps = shrinkSteps
        }
    }

    /// Counts per family and direction.
    public struct Tally: Codable, Sendable {
        public var passed = 0, failed = 0, mistrusted = 0, suspicious = 0, skipped = 0
        public var worstUtilization = 0.0
        /// Largest error / probabilistic bound (`ComparisonResult.probabilisticUtilization`):
        /// how close a correct kernel comes to a suspicious result; 0 in exact mode.
        public var worstProbabilisticUtilization = 0.0
        /// Largest significant ULP distance (`ComparisonResult.maxSignificantULPDistance`);
        /// nil when no element of any case had one.
        public var maxULP: Int?
        public var nmse: [Double] = []
        /// Wall time of the whole checks (inputs, reference, implementation, guards).
        public var seconds = 0.0
        /// Why the first skipped check of this tally was skipped (its first finding).
        public var skipReason: String?
        public var total: Int { passed + failed + mistrusted + suspicious + skipped }
        public var casesPerSecond: Double { seconds > 0 ? Double(total) / seconds : 0 }

        public init() {}

        mutating func add(_ o: CaseOutcome, wallSeconds: Double) {
            switch o.status {
            case .passed: passed += 1
            case .failed: failed += 1
            case .mistrusted: mistrusted += 1
            case .suspicious: suspicious += 1
            case .skipped:
                skipped += 1
                if skipReason == nil { skipReason = o.findings.first ?? "no reason given" }
            }
            if let c = o.comparison {
                if c.boundUtilization.isFinite { worstUtilization = max(worstUtilization, c.boundUtilization) }
                if c.probabilisticUtilization.isFinite {
                    worstProbabilisticUtilization = max(worstProbabilisticUtilization, c.probabilisticUtilization)
                }
                if let ulp = c.maxSignificantULPDistance, ulp != Int.max { maxULP = max(maxULP ?? 0, ulp) }
                if c.nmse.isFinite { nmse.append(c.nmse) }
            }
            seconds += wallSeconds
        }
    }

    public struct Result: Codable, Sendable {
        public var seed: UInt64
        public var mode: ComparisonMode
        public var implementation: String
        public var problemsChecked: Int
        public var tallies: [String: Tally]  // key "family/direction"
        public var failures: [Failure]
        /// Suspicious outcomes (bound mode), as drawn: not shrunk, each with its replay line.
        public var suspicious: [CaseOutcome] = []
        /// The tiled paths and boundaries the checked cases reached (`PathCoverage`; empty
        /// for other implementations).
        public var coverage = PathCoverage()
        public var seconds: Double
        public var passed: Int { tallies.values.map(\.passed).reduce(0, +) }
        public var failed: Int { tallies.values.map(\.failed).reduce(0, +) }
        public var mistrusted: Int { tallies.values.map(\.mistrusted).reduce(0, +) }
        public var suspiciousCount: Int { tallies.values.map(\.suspicious).reduce(0, +) }
        public var skipped: Int { tallies.values.map(\.skipped).reduce(0, +) }
        /// True when checks were drawn but every one was skipped: the run compared nothing.
        public var comparedNothing: Bool { skipped > 0 && passed + failed + mistrusted + suspiciousCount == 0 }
    }

    /// The seed of problem `index`: SplitMix-style mixing so neighbouring indices differ widely.
    public static func caseSeed(_ seed: UInt64, _ index: Int) -> UInt64 {
        var rng = SeededRNG(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1))
        return rng.next() >> 1  // keep it positive as Int64 for JSON and HDF5
    }

    /// The problem of index `index` (family round-robin, drawn from the case seed), in its
    /// precision (see `precisions`). The problem's shape does not depend on the precision.
    public func problem(at index: Int) -> (Problem, UInt64) {
        let s = Self.caseSeed(seed, index)
        var rng = SeededRNG(seed: s, stream: "problem")
        let problem = ProblemGenerator.random(families[index % families.count], rng: &rng, size: size)
        let precision = precisions[(index / max(families.count, 1)) % precisions.count]
        return (problem.with(precision: precision) ?? problem, s)
    }

    /// The tally key of a check: `family/direction`, plus `/dt=… acc=… odt=…` (the non-default
    /// fields) for a precision other than float32.
    public static func tallyKey(_ problem: Problem, _ direction: Direction) -> String {
        let p = problem.descriptor.precision
        return "\(problem.family.rawValue)/\(direction.rawValue)"
            + (p.isFloat32 ? "" : "/" + String(p.fieldsDescription.dropFirst()))
    }

    public func run(progress: (_ done: Int, _ total: Int, _ failures: Int) -> Void = { _, _, _ in }) -> Result {
        let start = Date()
        var result = Result(
            seed: seed, mode: mode, implementation: checker.implementation.name, problemsChecked: 0,
            tallies: [:], failures: [], seconds: 0)
        for index in 0..<cases where index % shardCount == shard {
            if let budget = timeBudget, Date().timeIntervalSince(start) > budget { break }
            let (problem, caseSeed) = problem(at: index)
            for direction in problem.directions where directions?.contains(direction) ?? true {
                let caseStart = Date()
                let outcome = checker.check(problem, direction, seed: caseSeed, mode: mode)
                let wall = Date().timeIntervalSince(caseStart)
                let failure = outcome.status == .failed ? shrinkFailure(outcome, problem, direction, caseSeed) : nil
                record(outcome, problem: problem, wall: wall, failure: failure, into: &result)
            }
            result.problemsChecked += 1
            progress(index + 1, cases, result.failures.count)
        }
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    /// Greedily shrinks a failing problem while the same direction, seed and mode still fail
    /// with a failure of the same kind (`CaseOutcome.failureKinds` shared); `candidateChecked`
    /// is called after each candidate (an isolated child's sign of life).
    public func shrinkFailure(
        _ outcome: CaseOutcome, _ problem: Problem, _ direction: Direction, _ caseSeed: UInt64,
        candidateChecked: () -> Void = {}
    ) -> Failure {
        guard shrink else { return Failure(original: outcome, shrunk: outcome, shrinkSteps: 0) }
        var last = outcome
        let kinds = outcome.failureKinds
        let (_, steps) = Shrinker.shrink(problem) { candidate in
            guard candidate.directions.contains(direction) else { return false }
            let o = checker.check(candidate, direction, seed: caseSeed, mode: mode)
            candidateChecked()
            if o.status == .failed && (kinds.isEmpty || !o.failureKinds.isDisjoint(with: kinds)) {
                last = o
                return true
            }
            return false
        }
        return Failure(original: outcome, shrunk: last, shrinkSteps: steps)
    }
}
