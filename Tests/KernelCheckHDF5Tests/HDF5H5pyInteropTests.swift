import Foundation
import KernelCheckCore
import KernelCheckHDF5
import Testing

/// Interoperability with h5py, in both directions. The expected values below are literals
/// copied from `tools/h5py_roundtrip.py`, which writes them as literals too.
@Suite("HDF5 interop with h5py")
struct HDF5H5pyInteropTests {
    /// Checks every object of the sample written by `h5py_roundtrip.py write`.
    static func verifySample(at path: String) throws {
        let file = try HDF5File.open(path)
        #expect(try file.memberNames() == ["case", "empty_group", "huge"])
        #expect(try file.memberNames(ofGroup: "/case") == ["conv"])
        #expect(
            try file.memberNames(ofGroup: "/case/conv")
                == ["counts_i32", "idx", "note", "rank5", "scalar", "x", "y"])
        #expect(try file.memberNames(ofGroup: "/empty_group") == [])
        #expect(try file.kind(of: "/case/conv") == .group)
        #expect(try file.kind(of: "/case/conv/x") == .dataset)

        // Root attributes: variable-length UTF-8, fixed-length ASCII, int64, float64, float32,
        // arrays; names in byte order.
        #expect(
            try file.attributeNames() == [
                "epsilon", "fixed_ascii", "flag", "names", "scale32",
                "schema_version", "shape", "title", "unicode", "weights",
            ])
        #expect(try file.attribute("title") == .string("h5py sample for KernelCheckHDF5"))
        #expect(try file.attribute("unicode") == .string("σ(x)·∂y/∂x"))
        #expect(try file.attribute("fixed_ascii") == .string("fixed-len"))
        #expect(try file.attribute("schema_version") == .int(1))
        #expect(try file.attribute("epsilon") == .double(1e-5))
        #expect(try file.attribute("scale32") == .double(1.5))
        #expect(try file.attribute("shape") == .intArray([2, 3]))
        #expect(try file.attribute("weights") == .doubleArray([0.25, -2.0]))
        #expect(try file.attribute("names") == .stringArray(["x", "w"]))
        #expect(
            throws: HDF5Error.unsupportedAttributeType(
                file: path, object: "/", attribute: "flag",
                requested: "string, integer or float", found: "enum")
        ) {
            try file.attribute("flag")
        }
        #expect(try file.stringAttribute("problem", of: "/case/conv") == "conv2d n1 c1 h2 w3")

        let x = try file.readFloats("/case/conv/x")
        #expect(x.storedType == .float32 && x.shape == [2, 3])
        #expect(x.values == [0.5, -1.0, 2.25, 3.0, -4.5, 6.125])
        #expect(try file.stringAttribute("role", of: "/case/conv/x") == "input")
        #expect(try file.intAttribute("seed", of: "/case/conv/x") == 7)

        let y = try file.readDoubles("/case/conv/y")
        #expect(y.storedType == .float64 && y.shape == [2, 1, 3])
        #expect(y.values == [0.1, 0.2, 0.3, -1e-300, 1e300, 2.5])

        let idx = try file.readInt64s("/case/conv/idx")
        #expect(idx.storedType == .int64 && idx.shape == [4])
        #expect(idx.values == [-3, 0, 7, 1_099_511_627_777])  // 2⁴⁰ + 1

        let scalar = try file.readDoubles("/case/conv/scalar")
        #expect(scalar.storedType == .float64 && scalar.shape == [] && scalar.values == [2.5])

        let counts = try file.readDoubles("/case/conv/counts_i32")
        #expect(counts.storedType == .integer(bits: 32, signed: true) && counts.shape == [3])
        #expect(counts.values == [1, -2, 3])
        #expect(try file.readInt64s("/case/conv/counts_i32").values == [1, -2, 3])

        let rank5 = try file.readFloats("/case/conv/rank5")
        #expect(rank5.storedType == .float32 && rank5.shape == [1, 2, 1, 2, 3])
        #expect(rank5.values == [-3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5])

        #expect(try file.datasetInfo("/case/conv/note").dataType == .string)
        #expect(
            throws: HDF5Error.unsupportedType(
                file: path, object: "/case/conv/note",
                requested: "float64", found: "string")
        ) {
            try file.readDoubles("/case/conv/note")
        }

        // "/huge" declares 2²⁰·2²⁰·2¹⁰ = 2⁵⁰ float32 elements without storing any: its shape is
        // reported, but reading (8 bytes per element in the Double buffer: 2⁵³ bytes) is
        // refused before allocating, under any budget below 8 PiB.
        let huge = try file.datasetInfo("/huge")
        #expect(huge.dataType == .float32 && huge.shape == [1_048_576, 1_048_576, 1024])
        #expect(huge.elementCount == 1_125_899_906_842_624)
        #expect(
            throws: HDF5Error.exceedsMemoryBudget(
                file: path, object: "/huge", shape: [1_048_576, 1_048_576, 1024],
                bytes: 9_007_199_254_740_992, budget: MemoryBudget.bytes)
        ) {
            try file.readDoubles("/huge")
        }
    }

    @Test("the committed h5py sample reads with the literal values it was written with")
    func committedSample() throws {
        try Self.verifySample(at: TestSupport.committedSample)
    }

    @Test(
        "a sample freshly written by h5py reads the same",
        .enabled(if: TestSupport.h5pyAvailable, "python3 with h5py and numpy is not available"))
    func freshSample() throws {
        try Self.roundTrip("write", "sample.h5", inspect: { try Self.verifySample(at: $0) })
    }

    /// Runs `h5py_roundtrip.py <command> FILE` on `name` in a fresh scratch directory, after
    /// `prepare(FILE)` and before `inspect(FILE)`; requires it to succeed and returns its output.
    @discardableResult
    static func roundTrip(
        _ command: String, _ name: String, prepare: (String) throws -> Void = { _ in },
        inspect: (String) throws -> Void = { _ in }
    ) throws -> String {
        let directory = try TestSupport.makeScratchDirectory("h5py-\(command)")
        defer { TestSupport.removeScratch(directory) }
        let path = directory.appendingPathComponent(name).path
        try prepare(path)
        let result = try TestSupport.runPython([TestSupport.roundTripScript, command, path])
        print("h5py_roundtrip.py \(command) \(path):\n\(result.output)")
        #expect(result.status == 0, "h5py_roundtrip.py \(command) failed:\n\(result.output)")
        try inspect(path)
        return result.output
    }

    /// Writes the file `h5py_roundtrip.py check` expects (see its `check` function).
    static func writeCheckFile(at path: String) throws {
        let file = try HDF5File.create(path)
        try file.setAttribute("writer", .string("KernelCheckHDF5"))
        try file.setAttribute("unicode", .string("∂L/∂W · µ"))
        try file.setAttribute("schema_version", .int(1))
        try file.setAttribute("tolerance", .double(0.125))
        try file.setAttribute("shape", .intArray([2, 3, 4]))
        try file.setAttribute("weights", .doubleArray([0.5, -1.25]))
        try file.setAttribute("tags", .stringArray(["fwd", "bwd_data"]))
        try file.createGroup("/a/b/c")
        try file.setAttribute("depth", .int(3), on: "/a/b/c")
        try file.write(
            [4_611_686_018_427_387_905, -4_611_686_018_427_387_907, 0, -1] as [Int64],
            shape: [4], to: "big_int64")  // 2⁶² + 1, −2⁶² − 3
        for type in PatternType.allCases {
            for rank in 0...5 {
                try type.writePattern(rank: rank, to: file, at: "/patterns/\(type)/rank\(rank)")
            }
        }
        try file.setAttribute("role", .string("input"), on: "/patterns/float32/rank2")
        try file.setAttribute("seed", .int(7), on: "/patterns/float32/rank2")
        try file.close()
    }

    @Test(
        "a file written here passes h5py's checks of dtype, shape, values and attributes",
        .enabled(if: TestSupport.h5pyAvailable, "python3 with h5py and numpy is not available"))
    func swiftWrittenFileReadsBackInH5py() throws {
        let output = try Self.roundTrip("check", "swift_written.h5", prepare: { try Self.writeCheckFile(at: $0) })
        #expect(output.contains("all checks passed"))
    }
}
