import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckTiled

/// The verdict on one (problem, direction, implementation) case: the numerical comparison
/// plus the guards (out-of-bounds writes, unwritten outputs, nondeterminism, errors).
public struct CaseOutcome: Codable, Sendable {
    public var problem: String
    public var direction: Direction
    public var implementation: String
    public var mode: ComparisonMode
    public var seed: UInt64
    public var status: ComparisonStatus
    public var comparison: ComparisonResult?
    /// Problems found by the guards or the implementation, each one line.
    public var findings: [String]
    /// What the check could not establish, each one line (not a failure), e.g. a determinism
    /// check that does not apply; nil when there is nothing to say.
    public var notes: [String]? = nil
    public var seconds: Double
    /// Threads of the main run, resolved (0 = all cores becomes this machine's core count), so
    /// that a replay elsewhere runs the same partitioning; nil where not recorded.
    public var threads: Int? = nil
    /// The mode the inputs were drawn for (exact: integer fills) when it differs from `mode`,
    /// the one the case is judged in (integer-filled tanh is judged in bound mode): a replay
    /// passes this one as `--mode` to get the same inputs.
    public var inputMode: ComparisonMode? = nil
    /// The fixture file of a fixture case, as shown to the user (nil for random problems).
    public var file: String? = nil

    /// `--mode` of a replay: the mode of the inputs.
    public var replayMode: ComparisonMode { inputMode ?? mode }

    /// One line: status, metrics and findings.
    public var summary: String {
        var parts = [status.rawValue]
        if let c = comparison {
            parts.append(
                String(
                    format: "util=%.3g maxabs=%.3g maxulp=%ld nmse=%.3g", c.boundUtilization, c.maxAbsError,
                    c.maxULPDistance, c.nmse))
            if c.mode.usesBound { parts.append("putil=\(Comparison.format(c.probabilisticUtilization, "%.3g"))") }
            if let w = c.worstCoordinates, c.status == .failed { parts.append("worst=\(w)") }
            if let r = c.reason, c.status != .passed { parts.append(r) }
        }
        parts.append(contentsOf: findings)
        parts.append(contentsOf: notes ?? [])
        return parts.joined(separator: "  ")
    }

    /// What kind of failure this is — `error` (the implementation threw), `out-of-bounds
    /// write`, `unwritten output`, `nondeterministic`, `mismatch` (the numbers), and for a
    /// narrow output type `overflow` (Inf / NaN where the exact value fits odt) and `not
    /// rounded to odt` (outputs that are not odt values; `mismatch` only when other elements
    /// are off too) — so that
    /// shrinking keeps the kind it started from: a nondeterministic conv must not shrink to an
    /// empty problem that fails for another reason.
    public var failureKinds: Set<String> {
        var kinds = Set<String>()
        for finding in findings {
            if finding.hasPrefix("error: ") { kinds.insert("error") }
            if finding.hasPrefix("out-of-bounds write") { kinds.insert("out-of-bounds write") }
            if finding.contains("never written") { kinds.insert("unwritten output") }
            if finding.hasPrefix("nondeterministic") { kinds.insert("nondeterministic") }
            if finding.hasPrefix("crash: ") { kinds.insert("crash") }  // an isolated sweep's child died
            if finding.hasPrefix("timeout: ") { kinds.insert("timeout") }
        }
        if let c = comparison, c.status == .failed {
            if c.overflowCount > 0 { kinds.insert("overflow") }
            if c.notRoundedCount > 0 { kinds.insert("not rounded to odt") }
            if c.mismatchedCount > c.overflowCount + c.notRoundedCount || c.mismatchedCount == 0 {
                kinds.insert("mismatch")
            }
        }
        return kinds
    }

    /// The one-line command that replays this case: problem, direction, seed (the inputs),
    /// mode, implementation and thread count — nothing is left to the replaying machine —
    /// and the tiled kernel variant when it is not the one this CPU would pick.
    public var replayCommand: String {
        let variant = KernelVariant.selected
        return "kernelcheck check --problem \(ShellQuote.quote(problem)) --direction \(direction.rawValue)"
            + " --seed \(seed) --mode \(replayMode.rawValue) --impl \(ShellQuote.quote(implementation))"
            + (threads.map { " --threads \($0)" } ?? "")
            + (implementation == "tiled" && variant != .detected ? " --kernel-variant \(variant.rawValue)" : "")
    }

    /// The one-line command that replays this case of the fixture file `file`, and nothing else
    /// (with `--tight` when it was judged in tight mode).
    public func fixtureReplayCommand(file: String) -> String {
        "kernelcheck verify \(ShellQuote.quote(file)) --case \(ShellQuote.quote(problem))"
            + " --direction \(direction.rawValue) --impl \(ShellQuote.quote(implementation))"
            + (mode == .tight ? " --tight" : "")
    }

    /// The replay line of this outcome: `fixtureReplayCommand` for a fixture case (`file`
    /// set), `replayCommand` otherwise.
    public var replay: String { file.map { fixtureReplayCommand(file: $0) } ?? replayCommand }

    // MARK: Codable (`replay` and `summary` are written too, and ignored when decoding)

    enum CodingKeys: String, CodingKey {
        case problem, direction, implementation, mode, seed, status, comparison, findings, seconds, threads
        case inputMode, file, notes
    }

    enum DerivedKeys: String, CodingKey { case replay, summary }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(problem, forKey: .problem)
        try c.encode(direction, forKey: .direction)
        try c.encode(implementation, forKey: .implementation)
        try c.encode(mode, forKey: .mode)
        try c.encode(seed, forKey: .seed)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(comparison, forKey: .comparison)
        try c.encode(findings, forKey: .findings)
        try c.encode(seconds, forKey: .seconds)
        try c.encodeIfPresent(threads, forKey: .threads)
        try c.encodeIfPresent(inputMode, forKey: .inputMode)
        try c.encodeIfPresent(file, forKey: .file)
        try c.encodeIfPresent(notes, forKey: .notes)
        var derived = encoder.container(keyedBy: DerivedKeys.self)
        try derived.encode(replay, forKey: .replay)
        try derived.encode(summary, forKey: .summary)
    }
}

/// Quoting for the shell commands printed as replay lines.
public enum ShellQuote {
    /// `text` as one POSIX shell word: unchanged when it holds only safe characters, else in
    /// single quotes (an embedded `'` written `'\''`).
    public static func quote(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !text.isEmpty && text.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

extension ComparisonMode {
    /// The mode a problem is actually judged in: `exact` only where integer inputs make every
    /// result exact in fp32 (linear accumulations, relu, sums of squares); elsewhere (sigmoid,
    /// tanh, BatchNorm's division, MSE's mean, leaky ReLU's slope) bound mode on the same inputs.
    /// Bound and tight mode are their own effective modes.
    public func effective(for problem: Problem) -> ComparisonMode {
        guard self == .exact else { return self }
        switch problem {
        case .conv, .convTranspose, .padProjectionA, .matmul, .linear: return .exact
        case .activation(let p): return p.kind == .relu ? .exact : .bound
        case .loss(let p): return p.kind == .sumOfSquares ? .exact : .bound
        case .padProjectionB: return .bound
        }
    }
}

/// Checks one implementation on one case at a time: seeded inputs, the reference's expected
/// values and magnitude, a guarded output buffer, the comparison, and (optionally) the
/// determinism check — the run repeated, and repeated on one thread, must give the same bits.
public struct CaseChecker: Sendable {
    public var implementation: any KernelImplementation
    public var guards: Bool
    public var determinism: Bool
    /// Threads for the main run (0 = all cores); the determinism check adds a 1-thread run.
    public var threads: Int

    public init(
        implementation: any KernelImplementation, guards: Bool = true, determinism: Bool = true, threads: Int = 0
    ) {
        self.implementation = implementation
        self.guards = guards
        self.determinism = determinism
        self.threads = threads
    }

    /// Draws the inputs from `seed` (integer fills in exact mode) and checks the case.
    public func check(_ problem: Problem, _ direction: Direction, seed: UInt64, mode: ComparisonMode) -> CaseOutcome {
        if mode.effective(for: problem) == .exact, let reason = CaseInputs.exactModeRefusal(problem, direction) {
            return CaseOutcome(
                problem: problem.description, direction: direction, implementation: implementation.name,
                mode: mode, seed: seed, status: .skipped, comparison: nil, findings: [reason], seconds: 0)
        }
        let inputs = CaseInputs.make(problem, seed: seed, mode: mode)
        let expected: ExpectedValues
        do {
            expected = try ExpectedValues.compute(problem, direction, inputs: inputs)
        } catch {
            return CaseOutcome(
                problem: problem.description, direction: direction, implementation: implementation.name,
                mode: mode, seed: seed, status: .skipped, comparison: nil,
                findings: ["reference cannot run: \(error)"], seconds: 0)
        }
        var outcome = check(
            problem, direction, inputs: inputs, expected: expected.values, magnitude: expected.magnitude,
            seed: seed, mode: mode.effective(for: problem))
        if outcome.mode != mode { outcome.inputMode = mode }
        return outcome
    }

    /// Checks the case on given inputs against given expected values (a fixture's, or the
    /// reference's) with `magnitude` scaling the error bound. Inputs that are not finite
    /// numbers of the problem's storage type (`Problem.checkRepresentable`) are bad input: the
    /// case is skipped, its finding naming the role and the first index, and no kernel runs.
    public func check(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>], expected: Tensor<Double>,
        magnitude: Tensor<Double>, seed: UInt64, mode: ComparisonMode
    ) -> CaseOutcome {
        var outcome = CaseOutcome(
            problem: problem.description, direction: direction, implementation: implementation.name,
            mode: mode, seed: seed, status: .failed, comparison: nil, findings: [], seconds: 0)
        guard implementation.supports(problem, direction) else {
            outcome.status = .skipped
            outcome.findings = ["\(implementation.name) does not implement \(direction.rawValue) of this op"]
            return outcome
        }
        do {
            try problem.checkRepresentable(inputs: inputs)
        } catch {
            outcome.status = .skipped
            outcome.findings = ["bad input: \(error)"]
            return outcome
        }
        outcome.threads = Tiled.resolveThreads(threads)
        let k = problem.descriptor.accumulationLength(for: direction)
        let start = Date()
        let buffer = GuardedBuffer(count: expected.count, guardCount: guards ? GuardedBuffer.defaultGuardCount : 0)
        do {
            try implementation.run(problem, direction, inputs: inputs, output: buffer.payload, threads: threads)
        } catch {
            // A plug-in learns only from running a case that it cannot do it.
            if case .unsupported = error { outcome.status = .skipped }
            outcome.findings.append(outcome.status == .skipped ? "\(error)" : "error: \(error)")
            outcome.seconds = Date().timeIntervalSince(start)
            return outcome
        }
        outcome.seconds = Date().timeIntervalSince(start)
        if guards, let violation = buffer.checkGuards() { outcome.findings.append("out-of-bounds write: \(violation)") }
        if buffer.unwrittenCount > 0, let first = buffer.firstUnwrittenIndex {
            outcome.findings.append(
                "\(buffer.unwrittenCount) output element(s) never written, first at flat index \(first)")
        }
        let comparison = Comparison.compare(
            actual: UnsafeBufferPointer(buffer.payload), expected: expected, magnitude: magnitude,
            accumulationLength: k, mode: mode, precision: problem.descriptor.precision)
        outcome.comparison = comparison
        if determinism, let finding = checkDeterminism(problem, direction, inputs: inputs, first: buffer) {
            outcome.findings.append(finding)
        }
        if determinism && !implementation.honoursThreads {
            outcome.notes = ["determinism across thread counts not applicable: \(implementation.name) ignores threads"]
        }
        outcome.status = outcome.findings.isEmpty ? comparison.status : .failed
        return outcome
    }

    /// Runs the implementation again with the same thread count, then with one thread, and
    /// reports the first element whose bits differ from the first run.
    func checkDeterminism(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>], first: GuardedBuffer
    ) -> String? {
        // 3 threads as well: a split into an odd number of parts finds reductions whose order
        // depends on the partition that 1 and 2 (or all-core) threads happen to agree on.
        let runs = [("a second run", threads), ("a 1-thread run", 1), ("a 3-thread run", 3)]
        for (label, t) in implementation.honoursThreads ? runs : [runs[0]] {
            // Guarded like the first run: a kernel that writes out of bounds does it again here.
            let again = GuardedBuffer(count: first.count, guardCount: first.guardCount)
            do {
                try implementation.run(problem, direction, inputs: inputs, output: again.payload, threads: t)
            } catch {
                return "nondeterministic: \(label) failed: \(error)"
            }
            for i in 0..<first.count where first.payload[i].bitPattern != again.payload[i].bitPattern {
                return
                    "nondeterministic: \(label) differs at flat index \(i): \(first.payload[i]) vs \(again.payload[i])"
            }
        }
        return nil
    }
}
