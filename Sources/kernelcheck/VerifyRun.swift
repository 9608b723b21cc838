import Foundation
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckVerification

/// The state of one `verify` run: outcomes, the lines printed as they come, suspect
/// fixtures, and the totals of the summary.
struct VerifyRun {
    let implementations: [any KernelImplementation]
    /// Print text lines (not JSON).
    let text: Bool
    let verbose: Bool
    /// Judge real-filled cases in tight mode (`verify --tight`).
    let tight: Bool
    var outcomes: [CaseOutcome] = []
    var failures: [Failure] = []
    /// Checks within the worst-case bound but beyond the probabilistic one (not failures).
    var suspicious: [Failure] = []
    var suspects: [Suspect] = []
    var unreadable: [String] = []
    var stoppedEarly = false

    /// A failed, mistrusted or suspicious check and the command that replays it alone.
    struct Failure: Encodable {
        var file, problem, direction, implementation, status, replay: String
    }

    /// A case direction whose expected values are suspect.
    struct Suspect: Encodable {
        var file, problem, direction, regenerate: String
    }

    init(implementations: [any KernelImplementation], text: Bool, verbose: Bool, tight: Bool = false) {
        self.implementations = implementations
        self.text = text
        self.verbose = verbose
        self.tight = tight
    }

    func count(_ status: ComparisonStatus) -> Int { outcomes.filter { $0.status == status }.count }
    var failed: Int { count(.failed) }

    /// Verifies one case in this process, printing its lines.
    mutating func verify(_ fixture: FixtureCase, path: String) {
        record(
            fixture, path: path,
            outcomes: FixtureVerification.verify(fixture, implementations: implementations, tight: tight))
    }

    /// Records the outcomes of one case (checked here or in an isolated child), printing its
    /// lines.
    mutating func record(_ fixture: FixtureCase, path: String, outcomes caseOutcomes: [CaseOutcome]) {
        let shown = displayPath(path)
        for var o in caseOutcomes {
            o.file = shown
            outcomes.append(o)
            let listed = Failure(
                file: shown, problem: o.problem, direction: o.direction.rawValue, implementation: o.implementation,
                status: o.status.rawValue, replay: o.fixtureReplayCommand(file: shown))
            let bad = o.status == .failed || o.status == .mistrusted || o.status == .suspicious
            if o.status == .suspicious { suspicious.append(listed) } else if bad { failures.append(listed) }
            guard text, verbose || bad else { continue }
            let util =
                o.comparison.map {
                    String(format: "util=%.3g maxabs=%.3g", $0.boundUtilization, $0.maxAbsError)
                } ?? ""
            var line =
                "\(pad(o.status.rawValue, 10)) \(pad(o.implementation, 9)) \(pad(o.direction.rawValue, 11)) \(util)  \(o.problem)"
            if o.status != .passed { line += "\n    " + o.summary }
            if bad { line += "\n    replay: " + o.fixtureReplayCommand(file: shown) }
            print(line)
        }
        for d in fixture.directions
        where FixtureVerification.expectedValuesSuspect(
            fixture, d, outcomes: caseOutcomes, implementations: implementations)
        {
            let regenerate = FixtureVerification.regenerateCommand(fixture)
            suspects.append(
                Suspect(
                    file: shown, problem: fixture.problem.description, direction: d.rawValue, regenerate: regenerate))
            if text {
                print(
                    "suspect fixture: every implementation fails \(d.rawValue) of '\(fixture.problem)' in \(shown) the same"
                        + " way, and each agrees with the reference recomputed in float64: the expected values are"
                        + " suspect. Regenerate them (rewrites fixtures/\(fixture.problem.family.rawValue).h5 from the"
                        + " manifest with the PyTorch oracle):\n    \(regenerate)")
            }
        }
    }

    /// The suspicious checks under their heading, each with its replay line (empty when none).
    var suspiciousListing: String? {
        guard !suspicious.isEmpty else { return nil }
        return
            (["suspicious (within the worst-case bound, beyond the probabilistic one; not failures):"]
            + suspicious.map { "  \($0.implementation) \($0.direction) \($0.problem)\n    replay: \($0.replay)" })
            .joined(separator: "\n")
    }

    /// The one summary line of a text run.
    func summaryLine(files: Int, filters: String?) -> String {
        let worst = outcomes.compactMap { $0.comparison?.boundUtilization }.filter(\.isFinite).max() ?? 0
        var line =
            JSONTotals(outcomes).summaryLine + " (\(outcomes.count) checks, \(files) file\(files == 1 ? "" : "s")"
            + String(format: ", worst bound utilization %.3g)", worst)
        if let filters { line += "; selected by \(filters)" }
        if !suspects.isEmpty { line += "; \(suspects.count) suspect fixture case(s)" }
        if stoppedEarly { line += "; stopped at the first failure (--fail-fast)" }
        if !unreadable.isEmpty {
            line += "; \(unreadable.count) unreadable file\(unreadable.count == 1 ? "" : "s") (exit 2)"
        }
        return line
    }

    /// The body of the `verify` JSON document (docs/json.md); the counts are its `totals`.
    var report: Report {
        Report(
            outcomes: outcomes, errors: unreadable, failures: failures, suspicious: suspicious,
            suspectFixtures: suspects, stoppedEarly: stoppedEarly)
    }

    /// The `verify` JSON document.
    func json() throws -> String { try JSONFormat.string(.verify, totals: JSONTotals(outcomes), report) }

    struct Report: Encodable {
        /// Every check, each with its `file` and `replay` line.
        var outcomes: [CaseOutcome]
        /// Files that could not be read as fixtures (exit 2).
        var errors: [String]
        var failures: [Failure]
        /// Suspicious checks with their replay lines (`totals.suspicious` of them).
        var suspicious: [Failure]
        var suspectFixtures: [Suspect]
        var stoppedEarly: Bool
    }

    private func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
}
