import Foundation
import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckVerification

/// The `verify` filters: which cases and directions of the fixture files run.
struct VerifySelection {
    /// `--case`: a whole problem string (any spelling that parses to it) selects exactly the
    /// cases of that problem; any other text selects every case whose problem string contains it.
    var caseText: String?
    var families: Set<OpFamily>
    var directions: Set<Direction>?
    /// `--dtype`: only cases whose inputs are stored in one of these types (empty: all).
    var dtypes: Set<ScalarType> = []

    init(caseText: String?, ops: [String], directions: [String], dtypes: [String] = []) throws {
        self.caseText = caseText
        self.families = Set(try ops.isEmpty ? [] : parseFamilies(ops))
        self.directions = try parseDirections(directions)
        if let text = caseText, text.isEmpty { throw BadInput("--case needs a non-empty text") }
        for name in dtypes {
            guard let t = ScalarType(rawValue: name) else {
                throw BadInput(
                    "--dtype: '\(name.prefix(40))' is not a type; known: "
                        + ScalarType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            self.dtypes.insert(t)
        }
    }

    var isFiltering: Bool { caseText != nil || !families.isEmpty || directions != nil || !dtypes.isEmpty }

    /// The problem `--case` names exactly, when its text parses as a whole problem string.
    private var exactProblem: String? {
        caseText.flatMap { try? Problem.parse($0) }.map(\.description)
    }

    /// The selected cases of all files, in file order: by op family, then exact problem if
    /// any case has it, else problem substring.
    func cases(_ all: [FixtureCase]) -> [FixtureCase] {
        let ofFamilies = all.filter {
            (families.isEmpty || families.contains($0.problem.family))
                && (dtypes.isEmpty || dtypes.contains($0.problem.descriptor.precision.storage))
        }
        guard let text = caseText else { return ofFamilies }
        if let exact = exactProblem {
            let matches = ofFamilies.filter { $0.problem.description == exact }
            if !matches.isEmpty { return matches }
        }
        return ofFamilies.filter { $0.problem.description.contains(text) }
    }

    func includes(_ direction: Direction) -> Bool { directions?.contains(direction) ?? true }

    /// The filters as flags, for messages.
    var flags: String {
        var parts: [String] = []
        if let t = caseText { parts.append("--case \(ShellQuote.quote(t))") }
        parts += families.sorted().map { "--op \($0.rawValue)" }
        parts += (directions ?? []).sorted().map { "--direction \($0.rawValue)" }
        parts += ScalarType.allCases.filter(dtypes.contains).map { "--dtype \($0.rawValue)" }
        return parts.joined(separator: " ")
    }
}

/// A path as the user would type it from the working directory: relative below it.
func displayPath(_ path: String) -> String {
    let cwd = FileManager.default.currentDirectoryPath
    return path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
}
