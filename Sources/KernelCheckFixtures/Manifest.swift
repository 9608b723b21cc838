import Foundation
import KernelCheckCore
import KernelCheckProblems

/// One line of `fixtures/manifest.txt`: `<family> | <problem string> | seed=<n> | fill=<fill>`.
public struct ManifestEntry: Hashable, Sendable {
    public var family: OpFamily
    public var problem: Problem
    public var seed: UInt64
    public var fill: Fill
    /// 1-based line number in the manifest, for messages.
    public var line: Int

    public init(family: OpFamily, problem: Problem, seed: UInt64, fill: Fill, line: Int = 0) {
        self.family = family
        self.problem = problem
        self.seed = seed
        self.fill = fill
        self.line = line
    }

    /// The fill of one input role: the case's fill, except BatchNorm's running variance,
    /// which must stay positive and is drawn from [0.5, 2].
    public func fill(for role: String) -> Fill {
        role == "var" ? .uniform(low: 0.5, high: 2) : fill
    }

    /// Every input role of every direction, drawn from its own stream of the case seed and
    /// rounded to the problem's input type `dt` (ties to even, `ScalarType.rounded`): the
    /// numbers a kernel of that type receives, so the oracle computes on exactly them. For
    /// f32 the rounding is the identity, and older fixtures keep their bytes.
    public func makeInputs() -> [(role: String, tensor: Tensor<Float>)] {
        let d = problem.descriptor
        let dt = d.precision.storage
        var seen = Set<String>()
        var out: [(String, Tensor<Float>)] = []
        for direction in d.directions {
            for spec in d.inputs(for: direction) where seen.insert(spec.role).inserted {
                var t: Tensor<Float> = fill(for: spec.role).tensor(spec.shape, seed: seed, role: spec.role)
                if dt != .f32 { t.storage = t.storage.map(dt.rounded) }
                out.append((spec.role, t))
            }
        }
        return out
    }
}

/// The list of golden cases, read from a human-readable text file (`#` starts a comment).
public struct Manifest: Sendable {
    public var entries: [ManifestEntry]
    public var path: String

    public init(entries: [ManifestEntry], path: String) {
        self.entries = entries
        self.path = path
    }

    public static func load(_ path: String) throws(FixtureError) -> Manifest {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw .manifest(file: path, line: 0, reason: "cannot read the manifest")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(FixtureError) -> Manifest {
        var entries: [ManifestEntry] = []
        var seen = Set<String>()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let n = index + 1
            let fields = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 4 else {
                throw .manifest(
                    file: path, line: n,
                    reason: "expected '<family> | <problem> | seed=<n> | fill=<fill>', got \(fields.count) fields")
            }
            guard let family = OpFamily(rawValue: fields[0]) else {
                throw .manifest(file: path, line: n, reason: "unknown family '\(fields[0])'")
            }
            let problem: Problem
            do { problem = try Problem.parse(fields[1]) } catch {
                throw .manifest(file: path, line: n, reason: error.description)
            }
            guard problem.family == family else {
                throw .manifest(
                    file: path, line: n,
                    reason:
                        "problem '\(fields[1])' belongs to family \(problem.family.rawValue), not \(family.rawValue)")
            }
            guard fields[2].hasPrefix("seed="), let seed = UInt64(fields[2].dropFirst(5)) else {
                throw .manifest(file: path, line: n, reason: "'\(fields[2])' is not seed=<non-negative integer>")
            }
            guard fields[3].hasPrefix("fill="), let fill = Fill(String(fields[3].dropFirst(5))) else {
                throw .manifest(
                    file: path, line: n,
                    reason: "'\(fields[3])' is not fill=uniform(a,b) | normal(m,s) | int(k,density)")
            }
            guard seen.insert(problem.description).inserted else {
                throw .manifest(
                    file: path, line: n,
                    reason: "case '\(problem.description)' is listed twice (group names must be unique)")
            }
            entries.append(ManifestEntry(family: family, problem: problem, seed: seed, fill: fill, line: n))
        }
        return Manifest(entries: entries, path: path)
    }
}
