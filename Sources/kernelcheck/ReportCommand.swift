import ArgumentParser
import Foundation
import KernelCheckReports
import KernelCheckVerification

/// `kernelcheck report merge|diff`: combine shard reports, compare two reports.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Merge nightly shard reports or diff two reports.",
        subcommands: [Merge.self, Diff.self])

    static func read(_ paths: [String]) throws -> [NightlyReport] {
        do {
            return try paths.map { path throws(ReportError) in try NightlyReport.read(path) }
        } catch {
            throw BadInput(error.description)
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Combine the report.json files of the shards of one nightly into one report (json, md, html).",
            discussion:
                "Counts are summed, worst values maximized, histograms added, failures concatenated, benchmarks united. "
                + "With --baseline the merged report is diffed: exit 1 on a new failure, or on a slowdown (> 10 %) that "
                + "its shard re-measured (nightly --baseline) and still found; a slowdown measured once is listed as "
                + "unconfirmed and does not fail. Refuses (exit 2) a set with a shard missing or given twice, naming it. "
                + "--out is replaced as one unit and locked while it is written (see 'nightly --help'). "
                + "--kill-matrix adds a Mutation testing section from the mutant library's kill matrix "
                + "(tools/mutants.sh, docs/mutation-testing.md); a malformed one is exit 2 and nothing is written.")

        @Argument(help: "Shard report.json files.")
        var reports: [String]

        @Option(help: "Directory for the merged report.json, report.md and report.html.")
        var out: String

        @Option(help: "A previous report.json to diff the merged report against.")
        var baseline: String?

        @Option(help: "The kill-matrix.json of tools/mutants.sh to show in a Mutation testing section.")
        var killMatrix: String?

        @Option(
            help: ArgumentHelp(
                "Show a Mutation testing section that says there is no kill matrix, and why "
                    + "(e.g. 'no kill matrix this week'): unknown, never a pass.", valueName: "reason"))
        var killMatrixMissing: String?

        /// The section `--kill-matrix` or `--kill-matrix-missing` asks for, read before
        /// anything is written (a bad matrix leaves no report).
        func mutationTesting() throws -> MutationTesting? {
            if let reason = killMatrixMissing {
                guard killMatrix == nil else { throw BadInput("give --kill-matrix or --kill-matrix-missing, not both") }
                let line = KillMatrix.oneLine(reason).trimmingCharacters(in: .whitespaces)
                guard !line.isEmpty else { throw BadInput("--kill-matrix-missing needs a reason") }
                return MutationTesting(missing: line)
            }
            guard let path = killMatrix else { return nil }
            do { return MutationTesting(killMatrix: try KillMatrix.read(path)) } catch {
                throw BadInput(error.description)
            }
        }

        func run() throws {
            guard !reports.isEmpty else { throw BadInput("give at least one report.json") }
            let mutation = try mutationTesting()
            let directory: ReportDirectory
            do { directory = try ReportDirectory(out) } catch { throw BadInput(error.description) }
            var merged: NightlyReport
            do { merged = try NightlyReport.merge(try ReportCommand.read(reports), paths: reports) } catch let e
                as ReportError
            {
                throw BadInput(e.description)
            }
            if let path = baseline {
                merged.compare(with: try ReportCommand.read([path])[0], path: path)
                merged.setAsideUnconfirmedRegressions()
            }
            if let mutation { merged.mutationTesting = mutation }
            print(MarkdownReport.render(merged))
            do { try directory.publish(merged) } catch { throw BadInput(error.description) }
            print("merged \(reports.count) report(s) into \(out)/report.json, report.md, report.html")
            try NightlyCommand.exitStatus(merged)
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print what changed from BASELINE to CURRENT in Markdown; exit 1 on a new failure, drift or slowdown.")

        @Argument(help: "The baseline report.json.")
        var baselineReport: String

        @Argument(help: "The current report.json.")
        var currentReport: String

        @OptionGroup var output: OutputOptions

        func run() throws {
            let r = try ReportCommand.read([baselineReport, currentReport])
            let diff = ReportDiff(baseline: r[0], current: r[1])
            if output.format == .json {
                let body = DiffDocument(
                    baseline: BaselineInfo(path: baselineReport, report: r[0]), current: currentReport,
                    hasAlarm: diff.hasAlarm, headline: diff.headline, diff: diff)
                print(try JSONFormat.string(.reportDiff, totals: r[1].totals, body))
            } else {
                print("# Changes from \(baselineReport) to \(currentReport)\n")
                print(MarkdownReport.render(diff).joined(separator: "\n"))
            }
            if diff.hasAlarm {
                throw VerificationFailed(
                    failures: diff.newFailures.count + diff.drift.count + diff.performanceRegressions.count)
            }
        }
    }
}

/// The body of the `report_diff` JSON document: what changed from the baseline to the
/// current report; `totals` are the current report's.
struct DiffDocument: Encodable {
    var baseline: BaselineInfo
    /// The current report.json's path.
    var current: String
    var hasAlarm: Bool
    var headline: String
    var diff: ReportDiff
}
