import Foundation
import KernelCheckCore
import Testing

@testable import KernelCheckHDF5

/// Narrow datasets — IEEE half, bfloat16 and float8 bit patterns — between this layer and
/// h5py. Both sides use the literal patterns of `tools/h5py_roundtrip.py` (`NARROW`), each
/// worked out by hand there; h5py decodes them with ml_dtypes, this side with `ScalarType`.
@Suite struct HDF5NarrowTypeTests {
    /// One sample dataset: its type, `dtype` attribute, shape, bit patterns and values.
    struct Sample {
        var name: String
        var type: HDF5NarrowType
        var scalar: ScalarType
        var tag: String?
        var shape: [Int]
        var bits: [UInt32]
        var values: [Float]

        /// The patterns as little-endian bytes.
        var bytes: [UInt8] {
            bits.flatMap { b in (0..<type.byteWidth).map { UInt8(truncatingIfNeeded: b >> (8 * $0)) } }
        }
    }

    static let samples = [
        Sample(
            name: "half", type: .float16, scalar: .f16, tag: nil, shape: [2, 3],
            bits: [0x3C00, 0xC100, 0x7BFF, 0x0001, 0x8000, 0x3555],
            values: [1, -2.5, 65504, 0x1p-24, -0.0, 0.333251953125]),
        Sample(
            name: "bf16", type: .uint16, scalar: .bf16, tag: "bfloat16", shape: [5],
            bits: [0x3F80, 0xC020, 0x7F7F, 0x0001, 0x8000],
            values: [1, -2.5, Float(sign: .plus, exponent: 127, significand: 2 - 0x1p-7), 0x1p-133, -0.0]),
        Sample(
            name: "e4m3", type: .uint8, scalar: .f8e4m3, tag: "float8_e4m3fn", shape: [2, 2],
            bits: [0x38, 0xC4, 0x7E, 0x01], values: [1, -3, 448, 0x1p-9]),
        Sample(
            name: "e5m2", type: .uint8, scalar: .f8e5m2, tag: "float8_e5m2", shape: [4],
            bits: [0x3C, 0xC2, 0x7B, 0x01], values: [1, -3, 57344, 0x1p-16]),
    ]

    /// python3 with h5py, NumPy and ml_dtypes (the independent decoder of the check).
    static let pythonAvailable: Bool = {
        guard let r = try? TestSupport.runPython(["-c", "import h5py, numpy, ml_dtypes"]) else { return false }
        return r.status == 0
    }()

    static func scratchFile(_ label: String) throws -> (URL, String) {
        let directory = try TestSupport.makeScratchDirectory(label)
        return (directory, directory.appendingPathComponent("narrow.h5").path)
    }

    static func writeSamples(to path: String) throws {
        let file = try HDF5File.create(path)
        for s in samples {
            try file.write(bytes: s.bytes, as: s.type, shape: s.shape, to: s.name)
            if let tag = s.tag { try file.setAttribute("dtype", .string(tag), on: s.name) }
        }
        try file.close()
    }

    @Test func writtenPatternsReadBackByteForByte() throws {
        let (directory, path) = try Self.scratchFile("narrow-roundtrip")
        defer { TestSupport.removeScratch(directory) }
        try Self.writeSamples(to: path)
        let file = try HDF5File.open(path)
        for s in Self.samples {
            #expect(try file.datasetInfo(s.name).dataType == s.type.dataType)
            let read = try file.readBytes(s.name, as: s.type, expectedShape: s.shape)
            #expect(read.bytes == s.bytes, "\(s.name)")
            let decoded = read.bytes.withUnsafeBytes { s.scalar.decode(bytes: $0) }
            #expect(decoded.map(\.bitPattern) == s.values.map(\.bitPattern), "\(s.name): \(decoded)")
        }
        // Half widens exactly through the ordinary reader too (HDF5's own conversion).
        #expect(try file.readDoubles("half").values == [1, -2.5, 65504, 0x1p-24, -0.0, 0.333251953125])
    }

    @Test func aWiderOrOtherTypeIsNeverReadAsNarrow() throws {
        let (directory, path) = try Self.scratchFile("narrow-refuse")
        defer { TestSupport.removeScratch(directory) }
        let file = try HDF5File.create(path)
        try file.write([1, 2] as [Float], shape: [2], to: "f32")
        try file.write(bytes: [0x38, 0x38], as: .uint8, shape: [2], to: "u8")
        #expect(throws: HDF5Error.unsupportedType(file: path, object: "/f32", requested: "float16", found: "float32")) {
            try file.readBytes("f32", as: .float16)
        }
        #expect(throws: HDF5Error.unsupportedType(file: path, object: "/u8", requested: "uint16", found: "uint8")) {
            try file.readBytes("u8", as: .uint16)
        }
        #expect(throws: HDF5Error.shapeMismatch(file: path, object: "/u8", expected: [3], found: [2])) {
            try file.readBytes("u8", as: .uint8, expectedShape: [3])
        }
        #expect(throws: HDF5Error.invalidShape(file: path, object: "/odd", shape: [2], valueCount: 1)) {
            try file.write(bytes: [0, 0, 0], as: .uint16, shape: [2], to: "odd")
        }
    }

    @Test(
        "a narrow file written here passes h5py's checks (types, patterns, ml_dtypes values, attributes)",
        .enabled(if: pythonAvailable, "python3 with h5py, numpy and ml_dtypes is not available"))
    func swiftWrittenNarrowFileReadsInH5py() throws {
        let (directory, path) = try Self.scratchFile("narrow-check")
        defer { TestSupport.removeScratch(directory) }
        try Self.writeSamples(to: path)
        let r = try TestSupport.runPython([TestSupport.roundTripScript, "check-narrow", path])
        #expect(r.status == 0 && r.output.contains("all checks passed"), "\(r.output)")
    }

    @Test(
        "a narrow file written by h5py reads with the literal patterns, big-endian half included",
        .enabled(if: TestSupport.h5pyAvailable, "python3 with h5py and numpy is not available"))
    func h5pyWrittenNarrowFileReadsHere() throws {
        let (directory, path) = try Self.scratchFile("narrow-write")
        defer { TestSupport.removeScratch(directory) }
        let r = try TestSupport.runPython([TestSupport.roundTripScript, "write-narrow", path])
        try #require(r.status == 0, "\(r.output)")
        let file = try HDF5File.open(path)
        for s in Self.samples {
            #expect(try file.readBytes(s.name, as: s.type, expectedShape: s.shape).bytes == s.bytes, "\(s.name)")
            if let tag = s.tag { #expect(try file.attribute("dtype", of: s.name) == .string(tag)) }
        }
        #expect(try file.readBytes("half_be", as: .float16).bytes == Self.samples[0].bytes)
    }
}
