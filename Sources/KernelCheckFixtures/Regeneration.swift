import Foundation
import KernelCheckHDF5
import KernelCheckProblems

/// `kernelcheck fixtures regenerate`: builds every selected case's inputs from the manifest
/// with the seeded RNG, asks the oracle for the expected values, validates the result by
/// reading it back, and only then replaces `fixtures/<family>.h5` (atomically: temp file, then
/// rename). An interrupted or failed run leaves the previous file untouched.
public struct Regeneration {
    public var manifest: Manifest
    public var directory: String
    public var oracle: Oracle

    public init(manifest: Manifest, directory: String, oracle: Oracle) {
        self.manifest = manifest
        self.directory = directory
        self.oracle = oracle
    }

    /// What one family's regeneration wrote.
    public struct FamilyResult: Sendable {
        public var family: OpFamily
        public var path: String
        public var cases: Int
        public var bytes: Int
    }

    /// The path of a family's fixture file.
    public func path(of family: OpFamily) -> String { directory + "/" + family.rawValue + ".h5" }

    /// Regenerates the families that have selected cases. A case is selected when its family
    /// is in `families` (all when empty) and its problem string contains `caseFilter` (all
    /// when nil); a family file always holds every manifest case of that family.
    public func run(
        families: Set<OpFamily> = [], caseFilter: String? = nil, progress: (String) -> Void = { _ in }
    ) throws -> [FamilyResult] {
        let selected = manifest.entries.filter { e in
            (families.isEmpty || families.contains(e.family))
                && (caseFilter.map { e.problem.description.contains($0) } ?? true)
        }
        var results: [FamilyResult] = []
        for family in OpFamily.allCases where selected.contains(where: { $0.family == family }) {
            let entries = manifest.entries.filter { $0.family == family }
            let target = path(of: family)
            progress("\(family.rawValue): \(entries.count) cases → \(target)")
            try HDF5File.writeAtomically(to: target) { file in
                try FixtureFile.writeInputs(entries, to: file)
                try file.close()
                try oracle.fill(file.path)
                // Read back before publishing: a file that does not validate never replaces the old one.
                let cases = try FixtureFile.read(file.path)
                guard cases.count == entries.count else {
                    throw FixtureError.oracle(
                        reason: "\(file.path): \(cases.count) cases after the oracle ran, expected \(entries.count)")
                }
            }
            let bytes = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0
            results.append(FamilyResult(family: family, path: target, cases: entries.count, bytes: bytes))
        }
        return results
    }
}
