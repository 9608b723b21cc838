import KernelCheckCore
import KernelCheckHDF5
import KernelCheckProblems

/// One golden case as stored in a fixture file (schema: fixtures/SCHEMA.md): a problem, its
/// inputs by role (stored in the problem's input type `dt`, held here as the same values in
/// Float) and the oracle's float64 expected output per direction.
public struct FixtureCase: Sendable {
    public var problem: Problem
    public var seed: Int64
    public var fill: String
    public var oracle: String
    public var inputs: [String: Tensor<Float>]
    public var expected: [Direction: Tensor<Double>]
    /// Where it was read from, for messages.
    public var file: String
    public var group: String

    /// The directions with expected values, in canonical order.
    public var directions: [Direction] { expected.keys.sorted() }
}

/// Reading and writing fixture files in the KernelCheck schema.
public enum FixtureFile {
    /// The schema version this build writes and reads.
    public static let schemaVersion: Int64 = 1

    /// Every case of a fixture file, validated against the schema: attributes present and of
    /// the right kind, a known schema version, a valid problem string, every input of every
    /// listed direction stored in the problem's input type (`FixtureStorage`: float32 for
    /// files written before precisions existed) and every expected output as float64, shapes
    /// as the problem implies, all values finite.
    public static func read(_ path: String) throws(FixtureError) -> [FixtureCase] {
        do {
            let file = try HDF5File.open(path)
            defer { try? file.close() }
            if try file.hasAttribute("schema_version") {
                let v = try intAttribute(file, "/", "schema_version", path)
                guard v == schemaVersion else {
                    throw FixtureError.unknownSchemaVersion(file: path, group: "/", found: v, supported: schemaVersion)
                }
            }
            var cases: [FixtureCase] = []
            var groupOfProblem: [String: String] = [:]
            for name in try file.memberNames(ofGroup: "/") where try file.kind(of: "/" + name) == .group {
                let fixture = try readCase(file, group: name)
                let key = fixture.problem.description
                if let first = groupOfProblem[key] {
                    throw FixtureError.duplicateProblem(file: path, problem: key, groups: [first, name])
                }
                groupOfProblem[key] = name
                cases.append(fixture)
            }
            guard !cases.isEmpty else { throw FixtureError.emptyFile(file: path) }
            return cases
        } catch let e as FixtureError {
            throw e
        } catch let e as HDF5Error {
            throw .hdf5(e)
        } catch {
            throw .oracle(reason: "\(error)")  // unreachable: only the two error types above are thrown
        }
    }

    /// One case group of an open file.
    public static func readCase(_ file: HDF5File, group name: String) throws -> FixtureCase {
        let path = file.path, g = "/" + name
        func string(_ attr: String) throws -> String {
            guard try file.hasAttribute(attr, of: g) else {
                throw FixtureError.missingAttribute(file: path, group: name, attribute: attr)
            }
            guard case .string(let s) = try file.attribute(attr, of: g) else {
                throw FixtureError.badAttribute(file: path, group: name, attribute: attr, reason: "must be a string")
            }
            return s
        }
        let version = try intAttribute(file, g, "schema_version", path, group: name)
        guard version == schemaVersion else {
            throw FixtureError.unknownSchemaVersion(file: path, group: name, found: version, supported: schemaVersion)
        }
        let problemText = try string("problem")
        let problem: Problem
        do { problem = try Problem.parse(problemText) } catch {
            throw FixtureError.badProblem(file: path, group: name, reason: error.description)
        }
        guard problemText == name else {
            throw FixtureError.groupNameMismatch(file: path, group: name, problem: problemText)
        }
        let seed = try intAttribute(file, g, "seed", path, group: name)
        let fill = try string("fill")
        let oracle = try string("oracle")
        let directionNames = try string("directions").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var directions: [Direction] = []
        for text in directionNames where !text.isEmpty {
            guard let d = Direction(rawValue: text), problem.directions.contains(d) else {
                throw FixtureError.badDirection(file: path, group: name, direction: MessageText.clip(text))
            }
            // A repeat would re-read and re-check the same output (a 2 MB "fwd,fwd,…" ran 76 s).
            guard !directions.contains(d) else {
                throw FixtureError.repeatedDirection(file: path, group: name, direction: text)
            }
            directions.append(d)
        }
        guard !directions.isEmpty else { throw FixtureError.noExpectedValues(file: path, group: name) }
        let d = problem.descriptor
        var inputs: [String: Tensor<Float>] = [:]
        var expected: [Direction: Tensor<Double>] = [:]
        for direction in directions {
            for spec in d.inputs(for: direction) where inputs[spec.role] == nil {
                inputs[spec.role] = try readInput(file, name, spec, dt: d.precision.storage)
            }
            let out = d.output(for: direction)
            expected[direction] = try dataset(file, name, out, as: Double.self, dtype: .float64)
        }
        return FixtureCase(
            problem: problem, seed: seed, fill: fill, oracle: oracle, inputs: inputs, expected: expected,
            file: path, group: name)
    }

    private static func intAttribute(
        _ file: HDF5File, _ object: String, _ attr: String, _ path: String, group: String = "/"
    ) throws -> Int64 {
        guard try file.hasAttribute(attr, of: object) else {
            throw FixtureError.missingAttribute(file: path, group: group, attribute: attr)
        }
        switch try file.attribute(attr, of: object) {
        case .int(let v): return v
        case .intArray(let a) where a.count == 1: return a[0]
        default:
            throw FixtureError.badAttribute(file: path, group: group, attribute: attr, reason: "must be an integer")
        }
    }

    private static func dataset<S: BinaryFloatingPoint & HDF5Scalar>(
        _ file: HDF5File, _ group: String, _ spec: TensorSpec, as: S.Type, dtype: HDF5DataType
    ) throws -> Tensor<S> {
        let path = "/" + group + "/" + spec.role
        guard try file.exists(path) else {
            throw FixtureError.missingDataset(file: file.path, group: group, role: spec.role)
        }
        let info = try file.datasetInfo(path)
        guard info.dataType == dtype else {
            throw FixtureError.wrongDataType(
                file: file.path, group: group, role: spec.role, expected: dtype.description,
                found: info.dataType.description)
        }
        guard info.shape == spec.shape else {
            throw FixtureError.wrongShape(
                file: file.path, group: group, role: spec.role, expected: spec.shape, found: info.shape)
        }
        let t = try file.readTensor(path, as: S.self, expectedShape: spec.shape)
        if let i = t.storage.firstIndex(where: { !$0.isFinite }) {
            throw FixtureError.nonFinite(
                file: file.path, group: group, role: spec.role, index: i, value: Double(t.storage[i]))
        }
        return t
    }

    /// Writes the inputs and attributes of `entries` (one group each, named by the canonical
    /// problem string) into an open file; the oracle adds the expected values afterwards.
    public static func writeInputs(_ entries: [ManifestEntry], to file: HDF5File) throws(HDF5Error) {
        try file.setAttribute("schema_version", .int(schemaVersion))
        for entry in entries {
            let g = "/" + entry.problem.description
            _ = try file.createGroup(g)
            try file.setAttribute("problem", .string(entry.problem.description), on: g)
            try file.setAttribute("schema_version", .int(schemaVersion), on: g)
            try file.setAttribute("seed", .int(Int64(bitPattern: entry.seed)), on: g)
            try file.setAttribute("fill", .string(entry.fill.description), on: g)
            for (role, tensor) in entry.makeInputs() {
                try writeInput(tensor, dt: entry.problem.descriptor.precision.storage, to: g + "/" + role, in: file)
            }
        }
    }
}
