import Foundation
import KernelCheckCore
import KernelCheckHDF5
import KernelCheckProblems
import Testing

@testable import KernelCheckFixtures

/// A fixture file must fail loudly — naming the file, the case group and the field — when it
/// is missing, corrupted, of an unknown schema version, or lacks or mistypes a dataset.
@Suite struct FixtureSchemaTests {
    static let problem = try! Problem.parse("conv1d n=1 ic=2 oc=3 g=1 in=5 k=3 s=1 d=1 p=valid bias=1")
    static let group = problem.description

    /// Writes a schema-valid case; `mutate` then damages it. Expected values here are
    /// placeholders (this suite tests reading, not numerics).
    static func makeFile(_ mutate: (HDF5File) throws -> Void = { _ in }) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-fixture-\(UUID().uuidString).h5")
            .path
        let file = try HDF5File.create(path)
        let entry = ManifestEntry(family: .conv, problem: problem, seed: 5, fill: .normal(mean: 0, std: 1))
        try FixtureFile.writeInputs([entry], to: file)
        let g = "/" + group
        for direction in problem.directions {
            let spec = problem.descriptor.output(for: direction)
            try file.write(Tensor<Double>(zeros: spec.shape).map { _ in 0.5 }, to: g + "/" + spec.role)
        }
        try file.setAttribute("oracle", .string("test"), on: g)
        try file.setAttribute("directions", .string(problem.directions.map(\.rawValue).joined(separator: ",")), on: g)
        try mutate(file)
        try file.close()
        return path
    }

    @Test func validFileReadsBack() throws {
        let path = try Self.makeFile()
        defer { unlink(path) }
        let cases = try FixtureFile.read(path)
        #expect(cases.count == 1)
        let c = try #require(cases.first)
        #expect(c.problem == Self.problem && c.seed == 5 && c.fill == "normal(0,1)")
        #expect(c.directions == [.fwd, .bwdData, .bwdWeights, .bwdBias])
        #expect(c.inputs["x"]?.shape == [1, 2, 5] && c.expected[.bwdWeights]?.shape == [3, 2, 3])
        // Inputs are the manifest's seeded draws, bit for bit.
        let again: Tensor<Float> = Fill.normal(mean: 0, std: 1).tensor([1, 2, 5], seed: 5, role: "x")
        #expect(c.inputs["x"] == again)
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: FixtureError.hdf5(.fileNotFound(file: "/nonexistent/conv.h5"))) {
            try FixtureFile.read("/nonexistent/conv.h5")
        }
    }

    @Test func truncatedFileIsAnErrorNotACrash() throws {
        let path = try Self.makeFile()
        defer { unlink(path) }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        truncate(path, off_t(size / 2))
        let error = #expect(throws: FixtureError.self) { try FixtureFile.read(path) }
        #expect(error?.description.contains(path) == true, "\(String(describing: error))")
    }

    /// Files that crashed libhdf5 (SIGSEGV) or made it allocate ≈ 10 GB when fuzzing found
    /// them, read here in this process: each is a typed error (the read probe met the crash in
    /// a child process), and the test run survives.
    @Test(arguments: [
        "hdf5-local-heap-symbol-table-segv", "hdf5-vlen-heap-index-segv", "hdf5-vlen-length-memory-blowup",
    ])
    func filesThatCrashedLibHDF5AreTypedErrorsInProcess(_ name: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let input = try Data(contentsOf: root.appendingPathComponent("tools/fuzz-regressions/" + name))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(name)-\(UUID().uuidString).h5")
            .path
        #expect(FileManager.default.createFile(atPath: path, contents: input.dropFirst()))  // byte 0: fuzz mode
        defer { unlink(path) }
        let error = #expect(throws: FixtureError.self) { try FixtureFile.read(path) }
        // The vlen index is an out-of-bounds read that faults only where the bytes past the
        // heap's table are unmapped (HDF5ReadProbeTests): in a large process it may instead
        // read garbage, which the reader rejects like any other damage.
        if name == "hdf5-vlen-heap-index-segv", let error, !error.description.contains("corrupt file") {
            #expect(error.description.contains(path), "\(error)")
            return
        }
        guard case .hdf5(.cannotOpen(let file, let reason))? = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(file == path && reason.hasPrefix("corrupt file: "), "\(reason)")
    }

    @Test func unknownSchemaVersionNamesTheGroup() throws {
        let path = try Self.makeFile { try $0.setAttribute("schema_version", .int(7), on: "/" + Self.group) }
        defer { unlink(path) }
        #expect(throws: FixtureError.unknownSchemaVersion(file: path, group: Self.group, found: 7, supported: 1)) {
            try FixtureFile.read(path)
        }
    }

    /// A hand-written relu case; `datasets` decides which roles exist and with what type.
    static func reluFile(x: [Float]? = [1, -1], x64: [Double]? = nil, y: [Double]? = [1, 0]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-fixture-\(UUID().uuidString).h5")
            .path
        let file = try HDF5File.create(path)
        let g = "/relu shape=2"
        _ = try file.createGroup(g)
        if let x { try file.write(x, shape: [x.count], to: g + "/x") }
        if let x64 { try file.write(x64, shape: [x64.count], to: g + "/x") }
        if let y { try file.write(y, shape: [y.count], to: g + "/y") }
        for (k, v) in [("problem", "relu shape=2"), ("fill", "normal(0,1)"), ("oracle", "test"), ("directions", "fwd")]
        {
            try file.setAttribute(k, .string(v), on: g)
        }
        try file.setAttribute("schema_version", .int(1), on: g)
        try file.setAttribute("seed", .int(1), on: g)
        try file.close()
        return path
    }

    @Test func missingDatasetNamesTheRole() throws {
        let noY = try Self.reluFile(y: nil)
        defer { unlink(noY) }
        #expect(throws: FixtureError.missingDataset(file: noY, group: "relu shape=2", role: "y")) {
            try FixtureFile.read(noY)
        }
        let noX = try Self.reluFile(x: nil)
        defer { unlink(noX) }
        #expect(throws: FixtureError.missingDataset(file: noX, group: "relu shape=2", role: "x")) {
            try FixtureFile.read(noX)
        }
    }

    @Test func wrongDataTypeAndShapeAreNamed() throws {
        let x64 = try Self.reluFile(x: nil, x64: [1, -1])
        defer { unlink(x64) }
        #expect(
            throws: FixtureError.wrongDataType(
                file: x64, group: "relu shape=2", role: "x", expected: "float32", found: "float64")
        ) {
            try FixtureFile.read(x64)
        }
        let short = try Self.reluFile(x: [1, -1, 3])
        defer { unlink(short) }
        #expect(
            throws: FixtureError.wrongShape(file: short, group: "relu shape=2", role: "x", expected: [2], found: [3])
        ) {
            try FixtureFile.read(short)
        }
        let yFloat = try Self.reluFile(y: nil)
        defer { unlink(yFloat) }
        let file = try HDF5File.open(yFloat, mode: .readWrite)
        try file.write([Float(1), 0], shape: [2], to: "/relu shape=2/y")
        try file.close()
        #expect(
            throws: FixtureError.wrongDataType(
                file: yFloat, group: "relu shape=2", role: "y", expected: "float64", found: "float32")
        ) {
            try FixtureFile.read(yFloat)
        }
    }

    @Test func nonFiniteValuesAreReported() throws {
        let path = try Self.reluFile(x: [1, .nan])
        defer { unlink(path) }
        let error = #expect(throws: FixtureError.self) { try FixtureFile.read(path) }
        guard case .nonFinite(_, let group, let role, let index, _) = error else {
            Issue.record("\(String(describing: error))"); return
        }
        #expect(group == "relu shape=2" && role == "x" && index == 1)
        let infinite = try Self.reluFile(y: [1, .infinity])
        defer { unlink(infinite) }
        #expect(throws: FixtureError.self) { try FixtureFile.read(infinite) }
    }

    @Test func badProblemStringIsNamed() throws {
        let path = try Self.makeFile {
            try $0.setAttribute("problem", .string("conv1d n=1 ic=2 oc=3 g=2 in=5 k=3"), on: "/" + Self.group)
        }
        defer { unlink(path) }
        let error = #expect(throws: FixtureError.self) { try FixtureFile.read(path) }
        #expect(error?.description.contains("attribute 'problem'") == true, "\(String(describing: error))")
    }

    @Test func manifestErrorsNameTheLine() {
        #expect(throws: FixtureError.manifest(file: "m", line: 2, reason: "unknown family 'convo'")) {
            try Manifest.parse("# c\nconvo | relu shape=1 | seed=1 | fill=normal(0,1)\n", path: "m")
        }
        #expect(throws: FixtureError.self) {
            try Manifest.parse("conv | relu shape=1 | seed=1 | fill=normal(0,1)", path: "m")
        }
        #expect(throws: FixtureError.self) {
            try Manifest.parse("activation | relu shape=1 | seed=x | fill=normal(0,1)", path: "m")
        }
        #expect(throws: FixtureError.self) {
            try Manifest.parse("activation | relu shape=1 | seed=1 | fill=gauss", path: "m")
        }
        #expect(throws: FixtureError.self) {
            try Manifest.parse(
                "activation | relu shape=1 | seed=1 | fill=normal(0,1)\nactivation | relu shape=1 | seed=2 | fill=normal(0,1)",
                path: "m")
        }
    }
}
