import ArgumentParser
import KernelCheckVerification

// Numeric options are validated before a command runs, each with one line that names the
// option and the value: `--cases 0` without saved failures once "passed" about nothing,
// `--cases=-5` trapped, and `--budget -3` ran no problem and exited 0.

extension CheckCommand {
    func validate() throws {
        try OptionValidation.require(cases >= 0, "--cases must be 0 (saved failures only) or more, got \(cases)")
        if cases == 0 && problem == nil {
            // Only the saved failures run: there must be some, or the run would pass about nothing.
            let database = FailureDatabase()
            let saved = try parseFamilies(op).reduce(0) { count, family in
                count + ((try? database.load(family))?.entries.filter { $0.implementation == impl }.count ?? 0)
            }
            try OptionValidation.require(
                !noFailureDb && saved > 0,
                "--cases 0 replays only the saved failures of \(database.directory)/, and "
                    + (noFailureDb
                        ? "--no-failure-db turns them off" : "it holds none for '\(impl)' and the selected ops"))
        }
        try OptionValidation.require(threads >= 0, "--threads must be 0 (all cores) or more, got \(threads)")
        if let budget {
            try OptionValidation.require(
                budget.isFinite && budget > 0, "--budget must be a positive number of seconds, got \(budget)")
        }
    }
}

extension BenchCommand {
    func validate() throws {
        try OptionValidation.require(runs >= 1, "--runs must be at least 1, got \(runs)")
    }
}

enum OptionValidation {
    static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw BadInput(message()) }
    }
}
