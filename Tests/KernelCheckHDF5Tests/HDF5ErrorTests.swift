import Foundation
import KernelCheckCore
import KernelCheckHDF5
import Testing

/// Bad files and bad requests give typed errors naming the file and object, never a crash.
@Suite("HDF5 errors")
struct HDF5ErrorTests {
    /// Writes a small valid file with one float64 dataset `/case/y` and a string attribute.
    static func writeValidFile(at path: String) throws {
        let file = try HDF5File.create(path)
        try file.write((0..<512).map { Double($0) / 4 }, shape: [8, 64], to: "/case/y")
        try file.setAttribute("problem", .string("matmul"), on: "/case")
        try file.close()
    }

    /// Runs `body` with the path of a fresh valid file (`writeValidFile`) named `name` in a
    /// scratch directory named `label`, removed afterwards.
    static func withValidFile(_ label: String, name: String = "valid.h5", _ body: (String) throws -> Void) throws {
        let directory = try TestSupport.makeScratchDirectory(label)
        defer { TestSupport.removeScratch(directory) }
        let path = directory.appendingPathComponent(name).path
        try writeValidFile(at: path)
        try body(path)
    }

    /// Requires `error` to be the case named `kind` (`cannotOpen`, `writeFailed`, …), naming
    /// `file` and `object` (nil: the file as a whole); returns the case's `reason`, if it has one.
    @discardableResult
    static func expect(
        _ error: HDF5Error?, is kind: String, file: String, object: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> String? {
        guard let error, let payload = Mirror(reflecting: error).children.first, payload.label == kind else {
            Issue.record("expected \(kind), got \(String(describing: error))", sourceLocation: sourceLocation)
            return nil
        }
        #expect(error.file == file && error.object == object, "\(error)", sourceLocation: sourceLocation)
        return Mirror(reflecting: payload.value).children.first { $0.label == "reason" }?.value as? String
    }

    @Test("a missing file gives fileNotFound")
    func missingFile() throws {
        let path = "/nonexistent-kernelcheck-dir/missing.h5"
        #expect(throws: HDF5Error.fileNotFound(file: path)) { try HDF5File.open(path) }
        #expect(HDF5Error.fileNotFound(file: path).description.contains(path))
    }

    @Test("a file of random bytes, and an empty file, give notHDF5")
    func randomBytes() throws {
        let directory = try TestSupport.makeScratchDirectory("random")
        defer { TestSupport.removeScratch(directory) }
        var rng = SeededRNG(seed: 20_240_601)
        let bytes = (0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let path = directory.appendingPathComponent("random.h5").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: HDF5Error.notHDF5(file: path)) { try HDF5File.open(path) }

        let empty = directory.appendingPathComponent("empty.h5").path
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(throws: HDF5Error.notHDF5(file: empty)) { try HDF5File.open(empty) }

        let text = directory.appendingPathComponent("notes.txt").path
        try Data("x,y\n1,2\n".utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: HDF5Error.notHDF5(file: text)) { try HDF5File.open(text, mode: .readWrite) }
    }

    @Test("a real file truncated to half its length gives cannotOpen with HDF5's reason")
    func truncatedFile() throws {
        try Self.withValidFile("truncated", name: "truncated.h5") { path in
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(whole.count > 4096)  // the 4 KiB dataset is in there
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))

            let error = #expect(throws: HDF5Error.self) { _ = try HDF5File.open(path) }
            if let reason = Self.expect(error, is: "cannotOpen", file: path) {
                #expect(reason.contains("truncated"), "HDF5's reason: \(reason)")
                print("truncated file: \(error!)")
            }
        }
    }

    @Test("a directory gives cannotOpen; creating in a missing directory gives cannotCreate")
    func directories() throws {
        let directory = try TestSupport.makeScratchDirectory("dirs")
        defer { TestSupport.removeScratch(directory) }
        #expect(throws: HDF5Error.cannotOpen(file: directory.path, reason: "it is a directory")) {
            try HDF5File.open(directory.path)
        }
        let path = directory.appendingPathComponent("no/such/dir/x.h5").path
        let error = #expect(throws: HDF5Error.self) { _ = try HDF5File.create(path) }
        #expect(Self.expect(error, is: "cannotCreate", file: path)?.isEmpty == false)
    }

    @Test("missing datasets, groups and attributes name the file and the object")
    func missingObjects() throws {
        try Self.withValidFile("missing") { path in
            let file = try HDF5File.open(path)

            #expect(throws: HDF5Error.missingObject(file: path, object: "/case/x")) { try file.readDoubles("case/x") }
            #expect(throws: HDF5Error.missingObject(file: path, object: "/nope/x")) { try file.datasetInfo("/nope/x") }
            #expect(throws: HDF5Error.missingObject(file: path, object: "/case/y/z")) {
                try file.readDoubles("/case/y/z")
            }
            #expect(throws: HDF5Error.missingObject(file: path, object: "/other")) { try file.group("/other") }
            #expect(throws: HDF5Error.missingObject(file: path, object: "/other")) { try file.kind(of: "/other") }
            #expect(throws: HDF5Error.missingObject(file: path, object: "/other")) {
                try file.attribute("a", of: "/other")
            }
            #expect(throws: HDF5Error.missingAttribute(file: path, object: "/case", attribute: "seed")) {
                try file.attribute("seed", of: "/case")
            }
            #expect(throws: HDF5Error.missingAttribute(file: path, object: "/", attribute: "problem")) {
                try file.stringAttribute("problem")
            }
            #expect(throws: HDF5Error.notADataset(file: path, object: "/case")) { try file.readDoubles("/case") }
            #expect(throws: HDF5Error.notAGroup(file: path, object: "/case/y")) {
                try file.memberNames(ofGroup: "/case/y")
            }
            #expect(throws: HDF5Error.notAGroup(file: path, object: "/case/y")) { try file.group("case/y") }

            let description = HDF5Error.missingAttribute(file: path, object: "/case", attribute: "seed").description
            #expect(description.contains(path) && description.contains("/case") && description.contains("seed"))
        }
    }

    @Test("requesting the wrong type or shape gives unsupportedType / shapeMismatch")
    func wrongTypeRequests() throws {
        try Self.withValidFile("types") { path in
            let file = try HDF5File.open(path)

            #expect(
                throws: HDF5Error.unsupportedType(file: path, object: "/case/y", requested: "int64", found: "float64")
            ) {
                try file.readInt64s("/case/y")
            }
            #expect(throws: HDF5Error.shapeMismatch(file: path, object: "/case/y", expected: [64, 8], found: [8, 64])) {
                try file.readDoubles("/case/y", expectedShape: [64, 8])
            }
            #expect(
                throws: HDF5Error.shapeMismatch(file: path, object: "/case/y", expected: [8, 64, 1], found: [8, 64])
            ) {
                try file.readTensor("/case/y", as: Float.self, expectedShape: [8, 64, 1])
            }
            #expect(
                throws: HDF5Error.unsupportedAttributeType(
                    file: path, object: "/case", attribute: "problem",
                    requested: "int", found: "string")
            ) {
                try file.intAttribute("problem", of: "/case")
            }
            #expect(
                throws: HDF5Error.unsupportedAttributeType(
                    file: path, object: "/case", attribute: "problem",
                    requested: "double", found: "string")
            ) {
                try file.doubleAttribute("problem", of: "case")
            }
            let message = HDF5Error.unsupportedType(file: path, object: "/case/y", requested: "int64", found: "float64")
                .description
            #expect(message.contains(path) && message.contains("/case/y") && message.contains("float64"))
        }
    }

    @Test("bad writes: wrong value count, existing object, read-only file, closed file")
    func badWrites() throws {
        try Self.withValidFile("writes") { path in

            let file = try HDF5File.open(path, mode: .readWrite)
            #expect(throws: HDF5Error.invalidShape(file: path, object: "/z", shape: [2, 3], valueCount: 5)) {
                try file.write([Float](repeating: 0, count: 5), shape: [2, 3], to: "z")
            }
            #expect(throws: HDF5Error.invalidShape(file: path, object: "/z", shape: [-1, 2], valueCount: 2)) {
                try file.write([1.0, 2.0], shape: [-1, 2], to: "z")
            }
            #expect(throws: HDF5Error.alreadyExists(file: path, object: "/case/y")) {
                try file.write([1.0], shape: [], to: "/case/y")
            }
            #expect(throws: HDF5Error.notAGroup(file: path, object: "/case/y")) {
                try file.write([1.0], shape: [], to: "/case/y/below")
            }
            #expect(throws: HDF5Error.notAGroup(file: path, object: "/case/y")) { try file.createGroup("/case/y/g") }
            let rootWrite = #expect(throws: HDF5Error.self) { try file.write(scalar: 1.0, to: "/") }
            Self.expect(rootWrite, is: "writeFailed", file: path, object: "/")
            try file.close()
            try file.close()  // closing twice is harmless
            #expect(!file.isOpen)
            #expect(throws: HDF5Error.fileClosed(file: path)) { try file.readDoubles("/case/y") }

            let readOnly = try HDF5File.open(path)
            let datasetWrite = #expect(throws: HDF5Error.self) { try readOnly.write([1.0], shape: [1], to: "/new") }
            #expect(Self.expect(datasetWrite, is: "writeFailed", file: path, object: "/new")?.isEmpty == false)
            let attributeWrite = #expect(throws: HDF5Error.self) {
                try readOnly.setAttribute("a", .int(1), on: "/case")
            }
            Self.expect(attributeWrite, is: "writeFailed", file: path, object: "/case")
            // The failed writes left the file readable and unchanged.
            #expect(try readOnly.memberNames() == ["case"])
            #expect(try readOnly.readDoubles("/case/y").values.prefix(3) == [0, 0.25, 0.5])
        }
    }
}
