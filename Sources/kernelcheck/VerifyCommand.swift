import ArgumentParser
import Foundation
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckVerification

/// `kernelcheck verify [FILE.h5 …]`: runs every case of fixture files (default: all of
/// fixtures/) against the chosen implementations.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify implementations against golden HDF5 case files (default: every fixtures/*.h5).",
        discussion: """
            Any file in the schema of fixtures/SCHEMA.md is accepted, including ones written with h5py.
            One line per case, direction and implementation: status, bound utilization (error / bound, ≤ 1 passes),
            max abs error. Exit 1 on any failure, 2 on a file that cannot be read as fixtures.
            """)

    @Argument(help: "Fixture files (default: every .h5 in fixtures/).")
    var files: [String] = []

    @Option(help: "reference, tiled or all.")
    var impl: String = "all"

    @OptionGroup var output: OutputOptions

    func run() throws {
        // Case files may be corrupted: bound what libhdf5 may allocate while reading them.
        AddressSpaceLimit.install()
        let implementations = impl == "all" ? Implementations.all : [try Implementations.named(impl)]
        let paths = try files.isEmpty ? Self.defaultFiles() : files
        var outcomes: [CaseOutcome] = []
        var problems: [String] = []
        for path in paths {
            let cases: [FixtureCase]
            do { cases = try FixtureFile.read(path) } catch {
                problems.append(error.description)
                continue
            }
            for fixture in cases {
                for o in FixtureVerification.verify(fixture, implementations: implementations) {
                    outcomes.append(o)
                    if output.format == .text {
                        let util =
                            o.comparison.map {
                                String(format: "util=%.3g maxabs=%.3g", $0.boundUtilization, $0.maxAbsError)
                            } ?? ""
                        var line =
                            "\(o.status.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(o.implementation.padding(toLength: 9, withPad: " ", startingAt: 0)) \(o.direction.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(util)  \(o.problem)"
                        if o.status != .passed { line += "\n    " + o.summary }
                        print(line)
                    }
                }
            }
        }
        let passed = outcomes.filter { $0.status == .passed }.count
        let failed = outcomes.filter { $0.status == .failed }.count
        let mistrusted = outcomes.filter { $0.status == .mistrusted }.count
        let skipped = outcomes.filter { $0.status == .skipped }.count
        if output.format == .json {
            struct Report: Encodable {
                var outcomes: [CaseOutcome]; var errors: [String]; var passed, failed, mistrusted, skipped: Int
            }
            print(
                try jsonString(
                    Report(
                        outcomes: outcomes, errors: problems, passed: passed, failed: failed, mistrusted: mistrusted,
                        skipped: skipped)))
        } else {
            let worst = outcomes.compactMap { $0.comparison?.boundUtilization }.filter(\.isFinite).max() ?? 0
            print(
                String(
                    format: "%d files, %d checks, worst bound utilization %.3g, %d mistrusted", paths.count,
                    outcomes.count, worst, mistrusted))
            // An unreadable file is never summarized as a clean run.
            print(
                "\(passed) passed, \(failed) failed, \(skipped) skipped"
                    + (problems.isEmpty
                        ? "" : ", \(problems.count) unreadable file\(problems.count == 1 ? "" : "s") (exit 2)"))
        }
        if !problems.isEmpty {
            for p in problems { FileHandleOutput.standardError("kernelcheck: error: \(p)") }
            throw ExitCode(2)
        }
        if failed > 0 { throw VerificationFailed(failures: failed) }
    }

    static func defaultFiles() throws -> [String] {
        let dir = RepositoryPaths.fixtures
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let files = names.filter { $0.hasSuffix(".h5") }.sorted().map { dir + "/" + $0 }
        if files.isEmpty {
            throw BadInput("no fixture files in \(dir); run 'kernelcheck fixtures regenerate' or pass FILE.h5")
        }
        return files
    }
}
