import ArgumentParser
import Foundation
import KernelCheckFixtures
import KernelCheckProblems

/// `kernelcheck fixtures list|regenerate`.
struct FixturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixtures",
        abstract: "List the golden cases or regenerate the fixture files with the PyTorch oracle.",
        subcommands: [List.self, Regenerate.self])

    struct Options: ParsableArguments {
        @Option(help: "Only this op family (\(OpFamily.allCases.map(\.rawValue).joined(separator: ", "))); repeatable.")
        var op: [String] = []

        @Option(help: "Path of the manifest.")
        var manifest: String = RepositoryPaths.manifest

        func families() throws -> Set<OpFamily> {
            var out = Set<OpFamily>()
            for name in op {
                guard let f = OpFamily(rawValue: name) else {
                    throw BadInput(
                        "unknown op family '\(name)'; known: \(OpFamily.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                out.insert(f)
            }
            return out
        }

        func load() throws -> Manifest {
            do { return try Manifest.load(manifest) } catch { throw BadInput(error.description) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every case of the manifest: family, problem, seed, fill.")
        @OptionGroup var options: Options

        func run() throws {
            let families = try options.families()
            let manifest = try options.load()
            var count = 0
            for e in manifest.entries where families.isEmpty || families.contains(e.family) {
                print("\(e.family.rawValue) | \(e.problem) | seed=\(e.seed) | fill=\(e.fill)")
                count += 1
            }
            print("\(count) cases")
        }
    }

    struct Regenerate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild fixture files: seeded inputs from the manifest, expected values from tools/oracle.py.",
            discussion: """
                Each fixtures/<family>.h5 that holds a selected case is rewritten with every case of its family,
                atomically (temporary file, then rename): an interrupted run leaves the previous file intact.
                Inputs are stored in each case's input type (dt=bf16, f16, f8e4m3, f8e5m2: rounded to it, ties to
                even; fixtures/SCHEMA.md); a rerun writes byte-identical files.
                Needs python3 with tools/requirements-oracle.txt (PyTorch's CPU wheel).
                """)
        @OptionGroup var options: Options

        @Option(
            name: .customLong("case"),
            help: "Only regenerate the families with a case whose problem string contains this text.")
        var caseFilter: String?

        @Option(help: "Directory of the fixture files.")
        var directory: String = RepositoryPaths.fixtures

        func run() throws {
            let manifest = try options.load()
            let regeneration = Regeneration(
                manifest: manifest, directory: directory, oracle: Oracle(script: RepositoryPaths.oracleScript))
            let start = Date()
            let results: [Regeneration.FamilyResult]
            // Progress in cases: each family's file is one oracle run, announced as it starts.
            let families = try options.families()
            let selected = OpFamily.allCases.filter { f in
                manifest.entries.contains {
                    $0.family == f && (families.isEmpty || families.contains(f))
                        && (caseFilter.map($0.problem.description.contains) ?? true)
                }
            }
            let sizes = selected.map { f in manifest.entries.filter { $0.family == f }.count }
            let progress = Progress("regenerate", total: sizes.reduce(0, +), stream: .standardOutput)
            var started = 0
            do {
                results = try regeneration.run(families: families, caseFilter: caseFilter) { line in
                    progress.message(line)
                    progress.update(sizes.prefix(started).reduce(0, +), note: "file \(started + 1) of \(sizes.count)")
                    started += 1
                }
                progress.update(progress.total, note: "\(sizes.count) file(s)")
                progress.finish()
            } catch let e as FixtureError {
                throw BadInput(e.description)
            } catch let e as CustomStringConvertible & Error {
                throw BadInput(e.description)
            }
            if results.isEmpty { throw BadInput("no manifest case matches the selection") }
            for r in results { print("wrote \(r.path): \(r.cases) cases, \(r.bytes) bytes") }
            print(String(format: "regenerated %d files in %.1f s", results.count, Date().timeIntervalSince(start)))
        }
    }
}
