import KernelCheckVerification

extension CheckCommand {
    /// Prints the sweep's path × boundary coverage table and its gaps (text output).
    /// Nothing for implementations other than `tiled`: their paths are not the plan's.
    static func printCoverage(_ coverage: PathCoverage, implementation: String) {
        guard implementation == TiledImplementation().name else { return }
        print("tiled path coverage (cases per path; per boundary, the cases that crossed it; — where it cannot):")
        for line in coverage.table() { print("  " + line) }
    }
}
