import ArgumentParser
import Foundation
import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckVerification

/// `kernelcheck verify [FILE.h5 …]`: runs the cases of fixture files (default: all of
/// fixtures/) against the chosen implementations.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify implementations against golden HDF5 case files (default: every fixtures/*.h5).",
        discussion: """
            Any file in the schema of fixtures/SCHEMA.md is accepted, including ones written with h5py.
            Prints the failing, mistrusted and suspicious checks (every check with -v: status, implementation, direction,
            bound utilization = error / bound, ≤ 1 passes, max abs error, problem), then one summary line.
            Each failure is followed by the command that replays just that check:
              kernelcheck verify FILE --case '<problem>' --direction <d> --impl <name>
            When every implementation fails a case the same way while agreeing with the reference recomputed in
            float64, the file's expected values are reported as suspect, with the command that regenerates them.
            --case takes a whole problem string (selects exactly that problem) or any text (selects the problems
            containing it); --op, --direction and --dtype (input type: f32, bf16, f16, f8e4m3, f8e5m2) are repeatable.
            A selection that matches nothing exits 2.
            Suspicious: within the worst-case bound but beyond the probabilistic one (docs/design.md); listed with
            replay lines and counted, exit 0. --tight judges real-filled cases by the probabilistic bound (they fail).
            Exit 1 on any failure, 2 on bad flags, an empty selection or a file that cannot be read as fixtures.
            """)

    @Argument(help: "Fixture files (default: every .h5 in fixtures/, only those of --op when given).")
    var files: [String] = []

    @Option(
        help:
            "Implementation (repeatable; default all): reference, tiled, all, or a plug-in: lib:PATH (docs/plugins.md), exec:COMMAND."
    )
    var impl: [String] = []

    @Option(
        name: .customLong("case"),
        help: "Only the cases whose problem string is this problem, or else contains this text.")
    var caseText: String?

    @Option(
        help: "Only cases of this op family (repeatable): \(OpFamily.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var op: [String] = []

    @Option(
        help:
            "Only this direction (repeatable): \(Direction.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var direction: [String] = []

    @Option(
        help:
            "Only cases whose inputs are stored in this type (repeatable): \(ScalarType.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var dtype: [String] = []

    @Flag(name: .shortAndLong, help: "Print every check, not only the failing, mistrusted and suspicious ones.")
    var verbose = false

    @Flag(
        help:
            "Tight mode for real-filled cases: an element beyond the probabilistic bound fails (bound mode calls it suspicious)."
    )
    var tight = false

    @Flag(name: [.customShort("x"), .customLong("fail-fast")], help: "Stop after the first case with a failure.")
    var failFast = false

    @Flag(help: "Check the cases in this process (faster to debug; a crash then ends the whole run).")
    var noIsolation = false

    @Option(
        parsing: .unconditional,
        help: "Seconds one check (all its runs) may take in the isolated child before it counts as a hang.")
    var caseTimeout: Double = 120

    /// Internal: run as the isolated child of a verify (`C1,C2,…:SKIP`: the cases at these
    /// positions of the one file given, leaving out the first SKIP checks of the first),
    /// writing `IsolatedMessage` lines.
    @Option(help: .hidden)
    var isolatedChild: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        try OptionValidation.require(
            caseTimeout.isFinite && caseTimeout > 0,
            "--case-timeout must be a positive number of seconds, got \(caseTimeout)")
    }

    func run() throws {
        // Case files may be corrupted: bound what libhdf5 may allocate while reading them.
        AddressSpaceLimit.install()
        let spellings = Self.spellings(impl)
        let implementations = try spellings.map { FaultInjectedImplementation.wrap(try Implementations.named($0)) }
        let selection = try VerifySelection(caseText: caseText, ops: op, directions: direction, dtypes: dtype)
        if let isolatedChild {
            try Self.runChild(
                isolatedChild, files: files, implementations: implementations, selection: selection, tight: tight)
            return
        }
        let paths = try files.isEmpty ? Self.defaultFiles(families: selection.families) : files
        var run = VerifyRun(
            implementations: implementations, text: output.format == .text, verbose: verbose, tight: tight)
        var read: [(path: String, cases: [FixtureCase])] = []
        for path in paths {
            do { read.append((path, try FixtureFile.read(path))) } catch { run.unreadable.append(error.description) }
        }
        let available = read.map(\.cases.count).reduce(0, +)
        let chosen = Set(selection.cases(read.flatMap(\.cases)).map { "\($0.file)\u{0}\($0.group)" })
        var driver: IsolatedFixtureDriver?
        if !noIsolation {
            driver = IsolatedFixtureDriver(
                impls: spellings, caseTimeout: caseTimeout,
                extraArguments: (selection.directions ?? []).sorted().flatMap { ["--direction", $0.rawValue] }
                    + (tight ? ["--tight"] : []),
                tight: tight, directions: selection.directions)
        }
        for (path, cases) in read {
            var selected: [(index: Int, fixture: FixtureCase)] = []
            for (index, var fixture) in cases.enumerated() where chosen.contains("\(fixture.file)\u{0}\(fixture.group)")
            {
                fixture.expected = fixture.expected.filter { selection.includes($0.key) }
                if !fixture.expected.isEmpty { selected.append((index, fixture)) }
            }
            if let driver {
                try driver.run(
                    path: path, cases: selected,
                    message: { FileHandleOutput.standardError("kernelcheck: \(displayPath(path)) \($0)") }
                ) { _, fixture, outcomes in
                    run.record(fixture, path: path, outcomes: outcomes)
                    return !(failFast && run.failed > 0)
                }
            } else {
                for (_, fixture) in selected {
                    run.verify(fixture, path: path)
                    if failFast && run.failed > 0 { break }
                }
            }
            if failFast && run.failed > 0 {
                run.stoppedEarly = true
                break
            }
        }
        if run.outcomes.isEmpty && selection.isFiltering {
            let scope =
                "\(available) case\(available == 1 ? "" : "s") of \(read.count) file\(read.count == 1 ? "" : "s")"
            if output.format == .text { print("0 checks — nothing matched \(selection.flags) in \(scope)") }
            for p in run.unreadable { FileHandleOutput.standardError("kernelcheck: error: \(p)") }
            throw BadInput("nothing matched \(selection.flags) in \(scope)")
        }
        if output.format == .json {
            print(try run.json())
        } else {
            if let listing = run.suspiciousListing { print(listing) }
            print(run.summaryLine(files: paths.count, filters: selection.isFiltering ? selection.flags : nil))
        }
        if !run.unreadable.isEmpty {
            for p in run.unreadable { FileHandleOutput.standardError("kernelcheck: error: \(p)") }
            throw ExitCode(2)
        }
        if run.failed > 0 { throw VerificationFailed(failures: run.failed) }
    }

    /// The `--impl` spellings, `all` expanded (default: every built-in implementation), each once.
    static func spellings(_ impl: [String]) -> [String] {
        var out: [String] = []
        for name in impl.isEmpty ? ["all"] : impl {
            for spelling in name == "all" ? Implementations.all.map(\.name) : [name] where !out.contains(spelling) {
                out.append(spelling)
            }
        }
        return out
    }

    /// The isolated child's side: checks the cases `spec` names (`C1,C2,…:SKIP`) of the one
    /// file in `files`, writing the protocol lines (`start` before each check, naming its
    /// direction and implementation; `outcome` after it; `done` after each case).
    static func runChild(
        _ spec: String, files: [String], implementations: [any KernelImplementation], selection: VerifySelection,
        tight: Bool
    ) throws {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        let indices = parts.first.map { $0.split(separator: ",").compactMap { Int($0) } } ?? []
        let skip = parts.count == 2 ? Int(parts[1]) : nil
        guard files.count == 1, let skip, skip >= 0, !indices.isEmpty,
            indices.count == parts[0].split(separator: ",").count
        else { throw BadInput("--isolated-child must be C1,C2,…:SKIP with one fixture file, got '\(spec)'") }
        let cases: [FixtureCase]
        do { cases = try FixtureFile.read(files[0]) } catch { throw BadInput(error.description) }
        for (n, index) in indices.enumerated() {
            guard cases.indices.contains(index) else { throw BadInput("--isolated-child: no case \(index)") }
            var fixture = cases[index]
            fixture.expected = fixture.expected.filter { selection.includes($0.key) }
            _ = FixtureVerification.verify(
                fixture, implementations: implementations, tight: tight, skipping: n == 0 ? skip : 0,
                willCheck: {
                    CheckCommand.emit(IsolatedMessage(.start, index: index, direction: $0, implementation: $1.name))
                },
                checked: {
                    CheckCommand.emit(IsolatedMessage(.outcome, index: index, direction: $0.direction, outcome: $0))
                })
            CheckCommand.emit(IsolatedMessage(.done, index: index))
        }
    }

    /// Every .h5 of fixtures/; with `families`, only `<family>.h5` of those that exist (all
    /// files when none does, so cases of those ops in other files are still found).
    static func defaultFiles(families: Set<OpFamily> = []) throws -> [String] {
        let dir = RepositoryPaths.fixtures
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var files = names.filter { $0.hasSuffix(".h5") }.sorted()
        let named = files.filter { name in families.contains { $0.rawValue + ".h5" == name } }
        if !named.isEmpty { files = named }
        if files.isEmpty {
            throw BadInput("no fixture files in \(dir); run 'kernelcheck fixtures regenerate' or pass FILE.h5")
        }
        return files.map { dir + "/" + $0 }
    }
}
