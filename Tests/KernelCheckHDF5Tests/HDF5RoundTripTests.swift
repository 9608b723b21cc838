import Foundation
import KernelCheckCore
import KernelCheckHDF5
import Testing

/// The three dtypes this layer writes, with the offset added to the index pattern (the same
/// offsets as `tools/h5py_roundtrip.py`: 0.5 and 0.25 make floats non-integral but exact,
/// 10¹² makes int64 values wider than 32 bits).
enum PatternType: String, CaseIterable, Sendable {
    case float32, float64, int64

    var offset: Double {
        switch self {
        case .float32: return 0.5
        case .float64: return 0.25
        case .int64: return 1e12
        }
    }

    var dataType: HDF5DataType {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        case .int64: return .int64
        }
    }

    /// Writes the pattern of `rank` at `path`; returns the shape written.
    @discardableResult
    func writePattern(rank: Int, to file: HDF5File, at path: String) throws -> [Int] {
        let shape = Array(TestSupport.patternExtents.prefix(rank))
        let expected = TestSupport.pattern(shape: shape, offset: offset)
        switch self {
        case .float32: try file.write(expected.map { Float($0) }, shape: shape, to: path)
        case .float64: try file.write(expected, shape: shape, to: path)
        case .int64: try file.write(expected.map { Int64($0) }, shape: shape, to: path)
        }
        return shape
    }
}

@Suite("HDF5 round trips in Swift")
struct HDF5RoundTripTests {
    @Test(
        "every dtype and rank 0–5 reads back with its type, shape and values",
        arguments: PatternType.allCases, 0...5)
    func datasetRoundTrip(type: PatternType, rank: Int) throws {
        let directory = try TestSupport.makeScratchDirectory("roundtrip")
        defer { TestSupport.removeScratch(directory) }
        let path = directory.appendingPathComponent("pattern.h5").path
        let shape = Array(TestSupport.patternExtents.prefix(rank))
        let expected = TestSupport.pattern(shape: shape, offset: type.offset)
        do {
            let file = try HDF5File.create(path)
            try type.writePattern(rank: rank, to: file, at: "/data/\(type)")
            try file.close()
        }

        let file = try HDF5File.open(path)
        let info = try file.datasetInfo("/data/\(type)")
        #expect(info.dataType == type.dataType)
        #expect(info.shape == shape)
        #expect(info.elementCount == expected.count)

        switch type {
        case .float32:
            let array = try file.readFloats("/data/\(type)")
            #expect(array.storedType == .float32 && array.shape == shape)
            #expect(array.values == expected.map { Float($0) })
            #expect(array.values.last == Float(TestSupport.lastPatternDigits[rank] + type.offset))
        case .float64:
            let array = try file.readDoubles("/data/\(type)")
            #expect(array.storedType == .float64 && array.shape == shape)
            #expect(array.values == expected)
            #expect(array.values.last == TestSupport.lastPatternDigits[rank] + type.offset)
        case .int64:
            let array = try file.readInt64s("/data/\(type)")
            #expect(array.storedType == .int64 && array.shape == shape)
            #expect(array.values == expected.map { Int64($0) })
            #expect(array.values.last == Int64(TestSupport.lastPatternDigits[rank]) + 1_000_000_000_000)
        }
        // Every dtype also reads as Double (exact here: all pattern values are below 2⁵³).
        #expect(try file.readDoubles("/data/\(type)").values == expected)
    }

    @Test("a rank-2 element lands at its row-major offset (hand-written literal)")
    func rowMajorLiteral() throws {
        let directory = try TestSupport.makeScratchDirectory("literal")
        defer { TestSupport.removeScratch(directory) }
        let path = directory.appendingPathComponent("literal.h5").path
        let file = try HDF5File.create(path)
        // [[1, 2, 3], [4, 5, 6]]: element (1, 0) is 4, at offset 3.
        try file.write([1, 2, 3, 4, 5, 6] as [Double], shape: [2, 3], to: "m")
        let tensor = try file.readTensor("m", as: Double.self, expectedShape: [2, 3])
        #expect(tensor[1, 0] == 4)
        #expect(tensor[0, 2] == 3)
        #expect(try file.readDoubles("m").shape == [2, 3])
    }

    @Test("numeric conversions: float32→Double exact, float64→Float rounds, int64→Double/Float rounds")
    func conversions() throws {
        let directory = try TestSupport.makeScratchDirectory("conversions")
        defer { TestSupport.removeScratch(directory) }
        let file = try HDF5File.create(directory.appendingPathComponent("c.h5").path)

        // 0.1 as float32 is 13421773·2⁻²⁷ = 0.100000001490116119384765625 exactly.
        try file.write([Float(0.1), -2.5], shape: [2], to: "f32")
        #expect(try file.readDoubles("f32").values == [0.100000001490116119384765625, -2.5])

        // Double → Float: 0.1 rounds to the float32 above; ±1e300 overflow to ±∞;
        // 3.4028234663852886e38 is Float.greatestFiniteMagnitude exactly.
        try file.write([0.1, 1e300, -1e300, 3.4028234663852886e38], shape: [4], to: "f64")
        let floats = try file.readFloats("f64").values
        #expect(floats == [Float(0.1), .infinity, -.infinity, .greatestFiniteMagnitude])
        #expect(try file.readFloats("f64").storedType == .float64)

        // 2⁵³ + 1 = 9007199254740993 is not a Double: ties-to-even gives 2⁵³.
        // 2²⁴ + 1 = 16777217 is not a Float: it rounds to 2²⁴ = 16777216.
        try file.write([9_007_199_254_740_993, 16_777_217, -7] as [Int64], shape: [3], to: "i64")
        #expect(try file.readDoubles("i64").values == [9_007_199_254_740_992, 16_777_217, -7])
        #expect(try file.readFloats("i64").values == [16_777_216 * 536_870_912, 16_777_216, -7])
        #expect(try file.readInt64s("i64").values == [9_007_199_254_740_993, 16_777_217, -7])
    }

    @Test("Int64 extremes survive a round trip bit for bit")
    func int64Extremes() throws {
        let directory = try TestSupport.makeScratchDirectory("int64")
        defer { TestSupport.removeScratch(directory) }
        let file = try HDF5File.create(directory.appendingPathComponent("i.h5").path)
        let values: [Int64] = [.min, .max, 4_611_686_018_427_387_905, -1, 0]  // 2⁶² + 1
        try file.write(values, shape: [5], to: "v")
        #expect(try file.readInt64s("v").values == values)
    }

    @Test("Tensor convenience writes float32 / float64 and reads back with its shape")
    func tensorRoundTrip() throws {
        let directory = try TestSupport.makeScratchDirectory("tensor")
        defer { TestSupport.removeScratch(directory) }
        let file = try HDF5File.create(directory.appendingPathComponent("t.h5").path)
        let x = try Tensor<Float>(shape: [2, 1, 3], storage: [1.5, -2, 3, 4, 5.25, -6])
        try file.write(x, to: "/case/x")
        #expect(try file.datasetInfo("/case/x").dataType == .float32)
        #expect(try file.readTensor("/case/x", as: Float.self) == x)
        let y = try Tensor<Double>(shape: [], storage: [0.75])
        try file.write(y, to: "/case/y")
        #expect(try file.datasetInfo("/case/y").shape == [])
        #expect(try file.readTensor("/case/y", as: Double.self) == y)
    }

    @Test("zero-sized dimensions are written and read as empty arrays with their shape")
    func zeroSized() throws {
        let directory = try TestSupport.makeScratchDirectory("zero")
        defer { TestSupport.removeScratch(directory) }
        let file = try HDF5File.create(directory.appendingPathComponent("z.h5").path)
        try file.write([Double](), shape: [3, 0], to: "empty")
        let array = try file.readDoubles("empty")
        #expect(array.shape == [3, 0])
        #expect(array.values.isEmpty)
    }

    @Test("nested groups: creation, listing in UTF-8 byte order, existence and kinds")
    func groups() throws {
        let directory = try TestSupport.makeScratchDirectory("groups")
        defer { TestSupport.removeScratch(directory) }
        let file = try HDF5File.create(directory.appendingPathComponent("g.h5").path)

        let leaf = try file.createGroup("a/b/c")  // intermediate groups created
        #expect(leaf.path == "/a/b/c")
        #expect(try file.createGroup("/a/b/c/").path == "/a/b/c")  // idempotent, normalized
        try file.write([1.0], shape: [1], to: "a/b/x")
        // Byte order: "B" (0x42) < "a10" < "a2" (since '1' < '2') < "b" (0x62).
        for name in ["b", "a2", "B", "a10"] { try file.createGroup("/list/\(name)") }

        #expect(try file.memberNames() == ["a", "list"])
        #expect(try file.memberNames(ofGroup: "/a/b") == ["c", "x"])
        #expect(try file.memberNames(ofGroup: "/list") == ["B", "a10", "a2", "b"])
        #expect(try file.memberNames(ofGroup: "/a/b/c") == [])

        #expect(try file.exists("/"))
        #expect(try file.exists("a/b/c"))
        #expect(try file.exists("/a/b/x"))
        #expect(try !file.exists("/a/b/nope"))
        #expect(try !file.exists("/nope/deeper"))
        #expect(try !file.exists("/a/b/x/below_a_dataset"))

        #expect(try file.kind(of: "/a/b") == .group)
        #expect(try file.kind(of: "/a/b/x") == .dataset)
        #expect(try file.kind(of: "/") == .group)

        // The group value resolves names relative to itself.
        let b = try file.group("a/b")
        #expect(try b.memberNames() == ["c", "x"])
        #expect(try b.kind(of: "x") == .dataset)
        #expect(try b.contains("c"))
        #expect(try !b.contains("d"))
        try b.write([7, 8] as [Int64], shape: [2], to: "c/y")
        #expect(try file.readInt64s("/a/b/c/y").values == [7, 8])
        #expect(try b.read("c/y", as: Int64.self).values == [7, 8])
        #expect(try b.group("c").path == "/a/b/c")
        #expect(try file.root.memberNames() == ["a", "list"])
    }

    @Test("attributes of every kind on the root, a group and a dataset")
    func attributes() throws {
        let directory = try TestSupport.makeScratchDirectory("attributes")
        defer { TestSupport.removeScratch(directory) }
        let path = directory.appendingPathComponent("a.h5").path
        let values: [String: HDF5AttributeValue] = [
            "problem": .string("conv2d:n1_c3_h8_w8"),
            "unicode": .string("∂L/∂W · µ"),
            "empty": .string(""),
            "seed": .int(-9_007_199_254_740_993),
            "eps": .double(1e-5),
            "shape": .intArray([2, 3, 4]),
            "weights": .doubleArray([0.5, -1.25]),
            "tags": .stringArray(["fwd", "bwd_data"]),
            "none": .intArray([]),
        ]
        do {
            let file = try HDF5File.create(path)
            try file.write([1, 2] as [Float], shape: [2], to: "/g/x")
            for target in ["/", "/g", "/g/x"] {
                for (name, value) in values { try file.setAttribute(name, value, on: target) }
            }
            try file.setAttribute("seed", .int(42), on: "/g")  // replaces the earlier value
            try file.close()
        }

        let file = try HDF5File.open(path)
        let sortedNames = ["empty", "eps", "none", "problem", "seed", "shape", "tags", "unicode", "weights"]
        for target in ["/", "/g", "/g/x"] {
            #expect(try file.attributeNames(of: target) == sortedNames)
            for (name, value) in values where !(target == "/g" && name == "seed") {
                #expect(try file.attribute(name, of: target) == value, "\(target) @\(name)")
            }
        }
        #expect(try file.intAttribute("seed", of: "/g") == 42)
        #expect(try file.stringAttribute("unicode") == "∂L/∂W · µ")
        #expect(try file.doubleAttribute("eps", of: "g/x") == 1e-5)
        #expect(try file.doubleAttribute("seed", of: "g") == 42)  // integer widened
        #expect(try file.hasAttribute("tags", of: "/g/x"))
        #expect(try !file.hasAttribute("nope", of: "/g/x"))
        #expect(try file.group("g").attribute("seed") == .int(42))
        #expect(try file.root.attributeNames() == sortedNames)
    }

    @Test("writeAtomically replaces the target only when the body succeeds")
    func atomicWrite() throws {
        let directory = try TestSupport.makeScratchDirectory("atomic")
        defer { TestSupport.removeScratch(directory) }
        let target = directory.appendingPathComponent("cases.h5").path

        try HDF5File.writeAtomically(to: target) { file in
            try file.write([1.0], shape: [1], to: "old")
        }
        #expect(try HDF5File.open(target).memberNames() == ["old"])

        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            try HDF5File.writeAtomically(to: target) { file in
                try file.write([2.0], shape: [1], to: "new")
                throw Interrupted()
            }
        }
        // Previous file intact, and no temporary file left beside it.
        #expect(try HDF5File.open(target).memberNames() == ["old"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["cases.h5"])

        // An HDF5 error inside the body is rethrown unchanged (it names the temporary file).
        do {
            try HDF5File.writeAtomically(to: target) { file in
                try file.write([1.0], shape: [2], to: "bad")
            }
            Issue.record("writing 1 value with shape [2] should have thrown")
        } catch let error as HDF5Error {
            guard case .invalidShape(let file, let object, let shape, let count) = error else {
                Issue.record("expected invalidShape, got \(error)")
                return
            }
            #expect(file.contains("/.cases.h5.tmp-\(getpid())-"))
            #expect(object == "/bad" && shape == [2] && count == 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["cases.h5"])

        try HDF5File.writeAtomically(to: target) { file in
            try file.write([3.0], shape: [1], to: "new")
        }
        let file = try HDF5File.open(target)
        #expect(try file.memberNames() == ["new"])
        #expect(try file.readDoubles("new").values == [3.0])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["cases.h5"])

        // A failed first write creates nothing.
        let fresh = directory.appendingPathComponent("fresh.h5").path
        #expect(throws: Interrupted.self) {
            try HDF5File.writeAtomically(to: fresh) { _ in throw Interrupted() }
        }
        #expect(!FileManager.default.fileExists(atPath: fresh))
    }

    @Test("concurrent use from several tasks is serialized and correct")
    func concurrentUse() async throws {
        let directory = try TestSupport.makeScratchDirectory("concurrent")
        defer { TestSupport.removeScratch(directory) }
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    let path = directory.appendingPathComponent("w\(worker).h5").path
                    let values = (0..<200).map { Double($0 * 8 + worker) }
                    try HDF5File.writeAtomically(to: path) { file in
                        for d in 0..<5 { try file.write(values, shape: [10, 20], to: "g/d\(d)") }
                        try file.setAttribute("worker", .int(Int64(worker)), on: "g")
                    }
                    let file = try HDF5File.open(path)
                    var ok = try file.intAttribute("worker", of: "g") == Int64(worker)
                    for d in 0..<5 { ok = try file.readDoubles("g/d\(d)").values == values && ok }
                    return ok
                }
            }
            var all: [Bool] = []
            for try await ok in group { all.append(ok) }
            return all
        }
        #expect(results == [Bool](repeating: true, count: 8))
    }
}
