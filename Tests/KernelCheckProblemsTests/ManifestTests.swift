import Foundation
import KernelCheckCore
import KernelCheckProblems
import Testing

/// Checks `fixtures/manifest.txt` (the list of golden fixture cases) against the Swift
/// parser: every line must parse, be written in canonical form, sit in the right family's
/// file, carry a valid seed and fill, and be unique within its file (the problem string is
/// the case's HDF5 group name). The Python oracle checks the same file with its own parser
/// (`python3 tools/oracle.py manifest fixtures/manifest.txt`), so the two sides agree.
@Suite struct ManifestTests {
    struct Line: CustomStringConvertible, Sendable {
        var number: Int
        var family: String
        var problem: String
        var seed: String
        var fill: String
        var description: String { "manifest.txt:\(number): \(problem)" }
    }

    /// `<package root>/fixtures/manifest.txt`, found from this file's path.
    static let manifestURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/manifest.txt")

    /// Case lines (`<family> | <problem> | seed=<n> | fill=<fill>`); comments and blanks skipped.
    /// A line that does not split into four fields is kept with empty fields so a test fails
    /// on it by name rather than it vanishing.
    static let lines: [Line] = {
        guard let text = try? String(contentsOf: manifestURL, encoding: .utf8) else { return [] }
        var out: [Line] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 4 {
                out.append(Line(number: i + 1, family: parts[0], problem: parts[1], seed: parts[2], fill: parts[3]))
            } else {
                out.append(Line(number: i + 1, family: "", problem: line, seed: "", fill: ""))
            }
        }
        return out
    }()

    @Test func manifestExistsAndIsLargeEnough() {
        #expect(FileManager.default.fileExists(atPath: Self.manifestURL.path), "missing \(Self.manifestURL.path)")
        #expect(Self.lines.count >= 150, "the manifest lists \(Self.lines.count) cases, the fixtures need at least 150")
    }

    @Test(arguments: lines)
    func lineIsCanonicalAndConsistent(_ line: Line) throws {
        let problem = try Problem.parse(line.problem)
        #expect(problem.description == line.problem, "not canonical; write '\(problem.description)'")
        #expect(
            problem.family.rawValue == line.family,
            "op belongs to family \(problem.family.rawValue), the line says '\(line.family)'")
        #expect(line.seed.hasPrefix("seed=") && UInt64(line.seed.dropFirst(5)) != nil, "bad seed field '\(line.seed)'")
        #expect(
            line.fill.hasPrefix("fill=") && Fill(String(line.fill.dropFirst(5))) != nil, "bad fill field '\(line.fill)'"
        )
        if let fill = Fill(String(line.fill.dropFirst(5))) {
            #expect(fill.description == String(line.fill.dropFirst(5)), "fill not canonical: '\(fill.description)'")
        }
    }

    @Test func problemsAreUniqueWithinEachFamily() {
        var seen: [String: Int] = [:]
        for line in Self.lines {
            let key = "\(line.family)|\(line.problem)"
            if let first = seen[key] {
                Issue.record("manifest.txt:\(line.number) repeats line \(first): one group per problem string per file")
            }
            seen[key] = line.number
        }
    }

    /// Every family has cases, and every direction of every family is covered.
    @Test func everyFamilyAndDirectionIsCovered() throws {
        var covered: [OpFamily: Set<Direction>] = [:]
        for line in Self.lines {
            guard let p = try? Problem.parse(line.problem) else { continue }
            covered[p.family, default: []].formUnion(p.directions)
        }
        for family in OpFamily.allCases {
            #expect(covered[family] != nil, "no case for family \(family.rawValue)")
        }
        #expect(covered[.conv]?.contains(.bwdBias) == true)
        #expect(covered[.convTranspose]?.contains(.bwdBias) == true)
        #expect(covered[.linear]?.contains(.bwdBias) == true)
        #expect(covered[.padProjectionB] == [.fwd, .bwdData, .bwdWeights, .bwdGamma, .bwdBeta])
    }
}
