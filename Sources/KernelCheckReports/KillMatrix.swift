import Foundation

/// The nightly report's mutation testing section (`mutation_testing` in report.json): the
/// most recent kill matrix of the mutant library (`tools/mutants.sh`, run weekly), or the
/// reason there is none. Absent from reports whose merge was not told about mutants.
public struct MutationTesting: Codable, Sendable, Equatable {
    /// The kill matrix; nil when none was available.
    public var killMatrix: KillMatrix?
    /// Why there is no kill matrix (`KillMatrix.missingNote` by default); nil when there is one.
    public var missing: String?

    public init(killMatrix: KillMatrix) { self.killMatrix = killMatrix }

    /// A section that says no matrix was found: shown as unknown, never as a pass.
    public init(missing: String = KillMatrix.missingNote) { self.missing = missing }
}

/// A kill matrix as the report holds it: the driver's matrix (tools/mutants/driver.py) with
/// the counts computed once: totals by outcome and kills per detector.
public struct KillMatrix: Codable, Sendable, Equatable {
    public static let missingNote = "no kill matrix this week"

    /// The kill-matrix.json it was read from.
    public var source: String
    /// When the driver wrote it (`YYYY-MM-DD HH:MM UTC`).
    public var date: String
    public var cpu: String?
    /// The `tools/mutants.sh` command line.
    public var command: String?
    /// The detectors, in the driver's order (the table's columns).
    public var detectors: [String]
    /// Mutants the run chose; more than `mutants.count` when the run stopped early.
    public var planned: Int?
    public var totals: KillTotals
    /// One per detector, in `detectors` order.
    public var detectorKills: [DetectorKills]
    /// In the library's order.
    public var mutants: [MutantResult]

    public init(
        source: String, date: String, cpu: String?, command: String?, detectors: [String], planned: Int?,
        mutants: [MutantResult]
    ) {
        self.source = source
        self.date = date
        self.cpu = cpu
        self.command = command
        self.detectors = detectors
        self.planned = planned
        self.mutants = mutants
        totals = KillTotals(mutants)
        detectorKills = detectors.map { d in
            let killers = mutants.map { m in m.results.filter { $0.status == .killed }.map(\.detector) }
            return DetectorKills(
                detector: d, kills: killers.filter { $0.contains(d) }.count,
                soleKills: killers.filter { $0 == [d] }.count)
        }
    }

    /// Survivors first (the gaps), then the undecided and unrun, then the killed; library
    /// order within each.
    public var gapsFirst: [MutantResult] {
        let rank: [MutantOutcome: Int] = [
            .survived: 0, .timeout: 1, .error: 1, .stillborn: 1, .inapplicable: 1, .killed: 2,
        ]
        return mutants.enumerated().sorted {
            (rank[$0.element.outcome]!, $0.offset) < (rank[$1.element.outcome]!, $1.offset)
        }
        .map(\.element)
    }

    /// True when the run stopped before every chosen mutant ran.
    public var isIncomplete: Bool { (planned ?? mutants.count) > mutants.count }
}

/// Where a mutant ended up, in the report's totals.
public enum MutantOutcome: String, Codable, Sendable, CaseIterable {
    case killed, survived, timeout, error, stillborn, inapplicable
}

/// What one detector did to one mutant (the driver's statuses).
public enum DetectorStatus: String, Codable, Sendable, CaseIterable {
    case killed, survived, timeout, error
}

/// Mutants per outcome.
public struct KillTotals: Codable, Sendable, Equatable {
    public var mutants = 0
    public var killed = 0
    public var survived = 0
    public var timeout = 0
    public var error = 0
    public var stillborn = 0
    public var inapplicable = 0

    public init(_ rows: [MutantResult]) {
        mutants = rows.count
        for r in rows {
            switch r.outcome {
            case .killed: killed += 1
            case .survived: survived += 1
            case .timeout: timeout += 1
            case .error: error += 1
            case .stillborn: stillborn += 1
            case .inapplicable: inapplicable += 1
            }
        }
    }
}

/// How many mutants a detector killed, and how many it alone killed.
public struct DetectorKills: Codable, Sendable, Equatable {
    public var detector: String
    public var kills: Int
    public var soleKills: Int
}

/// One mutant's row of the matrix.
public struct MutantResult: Codable, Sendable, Equatable {
    public var id: String
    public var description: String
    /// The tiled path(s) it targets.
    public var path: String
    public var direction: String
    /// Its bug class (`class` in the driver's JSON).
    public var bugClass: String
    /// The driver's verdict: killed, survived, undecided, stillborn or inapplicable.
    public var status: String
    public var outcome: MutantOutcome
    /// One per detector that ran, in the matrix's detector order.
    public var results: [DetectorResult]
    /// Why it did not run (inapplicable) or build (stillborn): the driver's message, shortened.
    public var error: String?
}

/// One detector's result on one mutant.
public struct DetectorResult: Codable, Sendable, Equatable {
    public var detector: String
    public var status: DetectorStatus
    /// The detector's wall time (a killing sweep still draws until its budget, then shrinks).
    public var seconds: Double
    /// The first failure's shrunk problem (`crash` for a detector killed by a signal).
    public var shrunk: String?
    /// Checks a sweep drew and how many failed.
    public var checked: Int?
    public var failures: Int?
}
