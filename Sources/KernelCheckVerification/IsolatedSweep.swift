import Foundation
import KernelCheckProblems

/// One line of the protocol between `kernelcheck check` (or `nightly`) and the child process
/// that runs its sweep (`check --isolated-child START`), or `verify` and the child that
/// checks its fixture cases (`verify --isolated-child CASES`; `index`: the case's position
/// in its file, `done` after each case): the child writes `IsolatedMessage.prefix` + one
/// JSON object per line on standard output, *before* each check (`start`), while it shrinks
/// (`alive`, so a long shrink is not taken for a hang), after each check (`outcome`, with the
/// shrunk failure) and after each problem (`done`). When the child dies, the last `start`
/// without its `outcome` names the case that killed it.
public struct IsolatedMessage: Codable, Sendable {
    public enum Event: String, Codable, Sendable { case start, alive, outcome, done }

    /// Lines without this prefix are the implementation's own output, not the protocol's.
    public static let prefix = "@kernelcheck "

    public var event: Event
    /// The problem index in the sweep.
    public var index: Int
    public var direction: Direction?
    /// The implementation a `start` is about, where the child checks several (`verify`).
    public var implementation: String?
    public var outcome: CaseOutcome?
    public var failure: Sweep.Failure?
    /// Wall time of the check (`outcome`), in seconds.
    public var wall: Double?

    public init(
        _ event: Event, index: Int, direction: Direction? = nil, implementation: String? = nil,
        outcome: CaseOutcome? = nil, failure: Sweep.Failure? = nil, wall: Double? = nil
    ) {
        self.event = event
        self.index = index
        self.direction = direction
        self.implementation = implementation
        self.outcome = outcome
        self.failure = failure
        self.wall = wall
    }

    /// Plain keys (they round-trip exactly, unlike snake case), one line, non-finite numbers
    /// as strings. One instance each: a sweep writes and reads a line per check, and making
    /// a coder costs more than using one. Each side uses its coder from one thread.
    nonisolated(unsafe) static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }()

    nonisolated(unsafe) static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }()

    /// The protocol line (prefix, JSON, newline).
    public var line: String {
        let data = (try? Self.encoder.encode(self)) ?? Data("{}".utf8)
        return Self.prefix + String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Parses a protocol line (with or without its newline); nil for any other line.
    public init?(line: String) {
        guard line.hasPrefix(Self.prefix),
            let m = try? Self.decoder.decode(Self.self, from: Data(line.dropFirst(Self.prefix.count).utf8))
        else { return nil }
        self = m
    }
}

extension Sweep {
    /// One checked case as a sweep hands it on (in process, or streamed from an isolated
    /// child): the outcome, its problem, the check's wall time in seconds and, for a failed
    /// outcome, the failure (shrunk, or the outcome itself when the sweep does not shrink).
    public struct CheckedCase: Sendable {
        public var outcome: CaseOutcome
        public var problem: Problem
        public var wall: Double
        public var failure: Failure?

        public init(outcome: CaseOutcome, problem: Problem, wall: Double, failure: Failure?) {
            self.outcome = outcome
            self.problem = problem
            self.wall = wall
            self.failure =
                outcome.status == .failed
                ? failure ?? Failure(original: outcome, shrunk: outcome, shrinkSteps: 0) : nil
        }
    }

    /// The child's side of an isolated sweep: the problems from index `start` on (this
    /// shard's), every selected direction (but the first `skipping` of problem `start`: those
    /// ran in a child that died), each failure shrunk here; every step reported through
    /// `emit` as it happens. No time budget: the parent stops the child when its own budget
    /// is spent.
    public func runAsChild(from start: Int, skipping: Int = 0, emit: (IsolatedMessage) -> Void) {
        for index in max(start, 0)..<cases where index % shardCount == shard {
            let (problem, caseSeed) = problem(at: index)
            let selected = problem.directions.filter { directions?.contains($0) ?? true }
            for direction in selected.dropFirst(index == start ? skipping : 0) {
                emit(IsolatedMessage(.start, index: index, direction: direction))
                let caseStart = Date()
                let outcome = checker.check(problem, direction, seed: caseSeed, mode: mode)
                let wall = Date().timeIntervalSince(caseStart)
                var failure: Failure?
                if outcome.status == .failed {
                    failure = shrinkFailure(outcome, problem, direction, caseSeed) {
                        emit(IsolatedMessage(.alive, index: index, direction: direction))
                    }
                }
                emit(
                    IsolatedMessage(
                        .outcome, index: index, direction: direction, outcome: outcome, failure: failure, wall: wall))
            }
            emit(IsolatedMessage(.done, index: index))
        }
    }

    /// Adds an outcome to `result`: one checked in process by `run`, or one that arrived from
    /// a child (or was made for a crash). The tiled implementation's path coverage is derived
    /// from the problem (a pure function of the plan), so a child need not send it.
    public func record(
        _ outcome: CaseOutcome, problem: Problem, wall: Double, failure: Failure?, into result: inout Result
    ) {
        if checker.implementation.name == TiledImplementation().name {
            result.coverage.record(problem, outcome.direction, threads: checker.threads)
        }
        result.tallies[Self.tallyKey(problem, outcome.direction), default: Tally()].add(outcome, wallSeconds: wall)
        if outcome.status == .failed {
            result.failures.append(failure ?? Failure(original: outcome, shrunk: outcome, shrinkSteps: 0))
        } else if outcome.status == .suspicious {
            result.suspicious.append(outcome)
        }
    }

    /// The directions of problem `index` that the sweep checks, in order.
    public func selectedDirections(at index: Int) -> [Direction] {
        problem(at: index).0.directions.filter { directions?.contains($0) ?? true }
    }

    /// An empty result of this sweep's settings.
    public func emptyResult() -> Result {
        Result(
            seed: seed, mode: mode, implementation: checker.implementation.name, problemsChecked: 0, tallies: [:],
            failures: [], seconds: 0)
    }
}

extension CaseOutcome {
    /// A case whose implementation took the process down (`kind` "crash": a signal or an
    /// unexpected exit) or never finished (`kind` "timeout"): a failure without numbers, its
    /// finding `"<kind>: <what happened>"` (`failureKinds` reads the kind back).
    public static func processFailure(
        kind: String, _ what: String, problem: Problem, direction: Direction, implementation: String,
        seed: UInt64, mode: ComparisonMode, threads: Int?, seconds: Double
    ) -> CaseOutcome {
        var o = CaseOutcome(
            problem: problem.description, direction: direction, implementation: implementation, mode: mode,
            seed: seed, status: .failed, comparison: nil, findings: ["\(kind): \(what)"], seconds: seconds)
        o.threads = threads
        return o
    }
}
