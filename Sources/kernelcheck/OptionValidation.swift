import ArgumentParser

// Numeric options are validated before a command runs, each with one line that names the
// option and the value: `--cases 0` once "passed" about nothing, `--cases=-5` trapped, and
// `--budget -3` ran no problem and exited 0.

extension CheckCommand {
    func validate() throws {
        try OptionValidation.require(cases >= 1, "--cases must be at least 1, got \(cases)")
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
