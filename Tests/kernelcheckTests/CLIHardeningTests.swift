import Foundation
import KernelCheckCore
import KernelCheckFixtures
import KernelCheckHDF5
import Testing

/// Every class of bad input, end to end through the built `kernelcheck` binary: exit status 2
/// and exactly one line on standard error, `kernelcheck: error: …`, naming the file, case or
/// field at fault — never a trap, a stack trace or a hang.
@Suite(.serialized) struct CLIHardeningTests {
    /// Runs the CLI and requires the bad-input contract; returns stderr for further checks.
    @discardableResult
    static func expectBadInput(
        _ arguments: [String], environment: [String: String] = [:], mentions: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let r = try CLI.run(arguments, environment: environment)
        #expect(r.status == 2, "\(arguments): status \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(
            lines.count == 1 && r.stderr.hasPrefix("kernelcheck: error: "),
            "\(arguments): stderr must be one 'kernelcheck: error:' line, got:\n\(r.stderr)",
            sourceLocation: sourceLocation)
        for forbidden in ["Fatal error", "Backtrace", "Stack dump", "Thread 0", "Illegal instruction"] {
            #expect(!r.stderr.contains(forbidden) && !r.stdout.contains(forbidden), sourceLocation: sourceLocation)
        }
        for text in mentions {
            #expect(
                r.stderr.contains(text), "\(arguments): stderr lacks '\(text)': \(r.stderr)",
                sourceLocation: sourceLocation)
        }
        return r.stderr
    }

    static func scratch(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kc-harden-\(UUID().uuidString)-\(name)").path
    }

    // MARK: - Files that are not (intact) HDF5

    @Test func missingFile() throws {
        try Self.expectBadInput(
            ["verify", "/nonexistent/dir/case.h5"], mentions: ["/nonexistent/dir/case.h5", "no such file"])
    }

    @Test func directoryAndNamedPipe() throws {
        let dir = Self.scratch("dir")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.expectBadInput(["verify", dir], mentions: [dir, "directory"])
        // libhdf5's signature probe blocks forever on a pipe with no writer; KernelCheck must
        // refuse it up front (this test hangs without that check).
        let fifo = dir + "/pipe.h5"
        #expect(mkfifo(fifo, 0o600) == 0)
        try Self.expectBadInput(["verify", fifo], mentions: [fifo, "not a regular file"])
    }

    @Test(.enabled(if: getuid() != 0, "running as root: permission bits do not stop root from reading"))
    func unreadableFile() throws {
        let path = Self.scratch("unreadable.h5")
        try FileManager.default.copyItem(atPath: CLI.repositoryRoot + "/fixtures/loss.h5", toPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        chmod(path, 0)
        try Self.expectBadInput(["verify", path], mentions: [path])
    }

    @Test func notHDF5TextEmptyAndRandomBytes() throws {
        var rng = SeededRNG(seed: 77)
        let inputs: [(String, [UInt8])] = [
            ("text.h5", Array("conv | conv2d n=1 | seed=1\n".utf8)),
            ("empty.h5", []),
            ("random.h5", (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }),
        ]
        for (name, bytes) in inputs {
            let path = Self.scratch(name)
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Self.expectBadInput(["verify", path], mentions: [path, "not an HDF5 file"])
        }
    }

    @Test func truncatedFixtureAtSeveralLengths() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: CLI.repositoryRoot + "/fixtures/loss.h5"))
        for fraction in [0.05, 0.5, 0.99] {
            let path = Self.scratch("truncated.h5")
            _ = FileManager.default.createFile(
                atPath: path, contents: original.prefix(Int(Double(original.count) * fraction)))
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Self.expectBadInput(["verify", path, "--impl", "reference"], mentions: [path])
        }
    }

    /// The fuzzer's regression inputs (tools/fuzz-regressions): two are rejected by the
    /// global-heap check before libhdf5 sees them; the others crash libhdf5 or make it
    /// allocate ≈ 10 GB, which the read probe (a child process) meets instead of the CLI.
    @Test(arguments: [
        ("hdf5-global-heap-object-overrun-segv", "global heap collection"),
        ("hdf5-global-heap-zero-free-space-hang", "free-space object"),
        ("hdf5-vlen-heap-index-segv", "libhdf5 crashed reading it ("),
        ("hdf5-local-heap-symbol-table-segv", "libhdf5 crashed reading it ("),
        // A huge stored string length: unchecked, libhdf5 allocates and clears ≈ 10 GB (about
        // 15 s) and then reads garbage; under the probe's address-space cap malloc fails at once.
        ("hdf5-vlen-length-memory-blowup", "memory allocation failed"),
    ])
    func corruptedFilesFoundByFuzzing(_ name: String, _ message: String) throws {
        let input = try Data(contentsOf: URL(fileURLWithPath: CLI.repositoryRoot + "/tools/fuzz-regressions/" + name))
        let path = Self.scratch(name + ".h5")
        _ = FileManager.default.createFile(atPath: path, contents: input.dropFirst())  // byte 0 is the fuzz mode
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.expectBadInput(["verify", path], mentions: [path, message])
    }

    // MARK: - Schema violations

    /// A relu case, `relu shape=3`: attributes (an entry mapped to nil is left out) and the
    /// datasets `write` puts in the group (by default a valid float32 x and float64 y).
    static func reluFile(
        attributes overrides: [String: HDF5AttributeValue?] = [:], rootVersion: Int64 = 1,
        write: (HDF5File, String) throws -> Void = CLIHardeningTests.writeXY
    ) throws -> String {
        let path = scratch("relu.h5")
        let file = try HDF5File.create(path)
        let g = "/relu shape=3"
        try file.setAttribute("schema_version", .int(rootVersion))
        _ = try file.createGroup(g)
        var attributes: [String: HDF5AttributeValue] = [
            "problem": .string("relu shape=3"), "fill": .string("normal(0,1)"), "oracle": .string("hand"),
            "directions": .string("fwd"), "schema_version": .int(1), "seed": .int(1),
        ]
        for (k, v) in overrides { attributes[k] = v }
        for (k, v) in attributes { try file.setAttribute(k, v, on: g) }
        try write(file, g)
        try file.close()
        return path
    }

    /// Writes a relu case (see `reluFile`) and requires `verify` to refuse it, naming the file
    /// and every text in `mentions`.
    static func expectVerifyRefuses(
        attributes: [String: HDF5AttributeValue?] = [:],
        write: (HDF5File, String) throws -> Void = CLIHardeningTests.writeXY, mentions: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let path = try reluFile(attributes: attributes, write: write)
        defer { unlink(path) }
        try expectBadInput(["verify", path], mentions: [path] + mentions, sourceLocation: sourceLocation)
    }

    static func writeX(_ f: HDF5File, _ g: String, _ x: [Float] = [1, -2, 3]) throws {
        try f.write(x, shape: [3], to: g + "/x")
    }
    static func writeXY(_ f: HDF5File, _ g: String) throws { try writeX(f, g); try writeY(f, g) }
    static func writeY(_ f: HDF5File, _ g: String, _ y: [Double] = [1, 0, 3]) throws {
        try f.write(y, shape: [3], to: g + "/y")
    }

    @Test func validHandWrittenCasePasses() throws {
        let path = try Self.reluFile()
        defer { unlink(path) }
        let r = try CLI.run(["verify", path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    @Test func unknownSchemaVersion() throws {
        let inGroup = try Self.reluFile(attributes: ["schema_version": .int(9)])
        let atRoot = try Self.reluFile(rootVersion: 2)
        defer { unlink(inGroup); unlink(atRoot) }
        try Self.expectBadInput(["verify", inGroup], mentions: [inGroup, "schema_version 9 is not supported"])
        try Self.expectBadInput(["verify", atRoot], mentions: [atRoot, "schema_version 2 is not supported"])
    }

    @Test func missingOrMistypedAttributes() throws {
        let cases: [([String: HDF5AttributeValue?], String)] = [
            (["seed": HDF5AttributeValue?.none], "missing attribute 'seed'"),
            (["problem": HDF5AttributeValue?.none], "missing attribute 'problem'"),
            (["seed": .string("one")], "attribute 'seed': must be an integer"),
            (["fill": .int(3)], "attribute 'fill': must be a string"),
            (["problem": .string("relu shape=3x")], "attribute 'problem': malformed problem string"),
            (["problem": .string("conv2d n=1 ic=3 oc=8 g=2 in=5x5 k=3x3")], "invalid g: groups 2 do not divide ic=3"),
            (["directions": .string("")], "no expected values"),
            (["directions": .string("fwd,bwd_everything")], "direction 'bwd_everything'"),
        ]
        for (attributes, message) in cases {
            try Self.expectVerifyRefuses(attributes: attributes, mentions: ["relu shape=3", message])
        }
    }

    @Test func missingWrongTypeRankOrShapeDatasets() throws {
        let cases: [((HDF5File, String) throws -> Void, String)] = [
            ({ f, g in try Self.writeY(f, g) }, "missing dataset 'x'"),
            ({ f, g in try Self.writeX(f, g) }, "missing dataset 'y'"),
            (
                { f, g in
                    try f.write([1.0, -2, 3], shape: [3], to: g + "/x"); try Self.writeY(f, g)
                },
                "dataset 'x' is float64, the schema requires float32"
            ),
            (
                { f, g in
                    try Self.writeX(f, g); try f.write([Float(1), 0, 3], shape: [3], to: g + "/y")
                },
                "dataset 'y' is float32, the schema requires float64"
            ),
            (
                { f, g in
                    try f.write([Int64(1), 2, 3], shape: [3], to: g + "/x"); try Self.writeY(f, g)
                },
                "dataset 'x' is"
            ),
            (
                { f, g in
                    try f.write([Float(1), -2, 3], shape: [1, 3], to: g + "/x"); try Self.writeY(f, g)
                },
                "dataset 'x' has shape 1x3, the problem implies 3"
            ),
            (
                { f, g in
                    try Self.writeX(f, g); try f.write(scalar: 1.0, to: g + "/y")
                },
                "dataset 'y' has shape scalar, the problem implies 3"
            ),
            (
                { f, g in
                    try f.write([Float(1), -2, 3, 4], shape: [4], to: g + "/x"); try Self.writeY(f, g)
                },
                "dataset 'x' has shape 4, the problem implies 3"
            ),
        ]
        for (write, message) in cases {
            try Self.expectVerifyRefuses(write: write, mentions: ["relu shape=3", message])
        }
    }

    /// NaN or ±Inf in an input or an expected value is reported, never compared (NaN would
    /// make every comparison false, i.e. "no error").
    @Test func nonFiniteInputsAndExpectedValues() throws {
        let cases: [((HDF5File, String) throws -> Void, String)] = [
            (
                { f, g in
                    try Self.writeX(f, g, [1, .nan, 3]); try Self.writeY(f, g)
                }, "dataset 'x' holds nan at flat index 1"
            ),
            (
                { f, g in
                    try Self.writeX(f, g, [-.infinity, 0, 3]); try Self.writeY(f, g)
                }, "dataset 'x' holds -inf at flat index 0"
            ),
            (
                { f, g in
                    try Self.writeX(f, g); try Self.writeY(f, g, [1, 0, .infinity])
                }, "dataset 'y' holds inf at flat index 2"
            ),
            (
                { f, g in
                    try Self.writeX(f, g); try Self.writeY(f, g, [.nan, 0, 3])
                }, "dataset 'y' holds nan at flat index 0"
            ),
        ]
        for (write, message) in cases {
            try Self.expectVerifyRefuses(write: write, mentions: [message])
        }
    }

    // MARK: - Problem strings, descriptors, memory budget

    @Test(arguments: [
        ("conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 s=0x1", "invalid s"),
        ("conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 s=-2", "invalid s"),
        ("conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 d=1x0", "invalid d"),
        ("conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 d=-1", "invalid d"),
        ("conv2d n=1 ic=1 oc=1 in=2x2 k=3x3", "larger than the padded input"),
        ("conv1d n=1 ic=1 oc=1 in=5 k=2 d=5 p=0", "larger than the padded input"),
        ("conv2d n=1 ic=3 oc=8 g=2 in=5x5 k=3x3", "groups 2 do not divide ic=3"),
        ("convt2d n=1 ic=4 oc=6 g=4 in=3x3 k=3x3", "groups 4 do not divide oc=6"),
        ("convt2d n=1 ic=1 oc=1 in=3x3 k=3x3 s=2x2 op=2x0", "output_padding 2"),
        ("convt1d n=1 ic=1 oc=1 in=3 k=3 s=1 d=2 op=2", "output_padding 2"),
        ("padproj_a n=1 c=16 in=4x4 oc=8", "option A can only add channels"),
        ("padproj_b n=1 ic=1 oc=1 in=4x4 eps=0", "invalid eps"),
        ("conv2d n=4611686018427387904 ic=1 oc=1 in=5x5 k=3x3", "out of range"),
        ("mse shape=4294967296x4294967296x4294967296", "out of range"),
        ("conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 bias=2", "malformed problem string"),
        ("conv2d n=1 ic=1 oc=1 in=5x5", "missing key 'k'"),
        ("conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 stride=2", "unknown key 'stride'"),
        ("conv2d n=1 n=1 ic=1 oc=1 in=5x5 k=3x3", "given twice"),
        ("conv9d n=1", "unknown op 'conv9d'"),
        ("", "empty"),
    ])
    func badProblemStrings(_ text: String, _ message: String) throws {
        try Self.expectBadInput(["problem", text], mentions: [message])
    }

    /// `check --problem` parses with the same function as `problem` (`parseProblem`): one string
    /// per kind of `ProblemError` (a bad field, a malformed string, an overflowing shape; the
    /// memory budget is below) shows that it refuses them the same way.
    @Test(arguments: [
        ("conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 s=0x1", "invalid s"),
        ("conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 bias=2", "malformed problem string"),
        ("mse shape=4294967296x4294967296x4294967296", "out of range"),
    ])
    func badProblemStringsInCheck(_ text: String, _ message: String) throws {
        try Self.expectBadInput(["check", "--problem", text], mentions: [message])
    }

    /// Shapes over the memory budget are refused before anything is allocated; the budget
    /// comes from KERNELCHECK_MEMORY_BUDGET.
    @Test func memoryBudgetFromTheEnvironment() throws {
        let big = "matmul a=40000x40000 b=40000x40000"  // 3 × 12.8 GB as Double: over the default 4 GiB
        try Self.expectBadInput(["problem", big], mentions: ["over the memory budget", "KERNELCHECK_MEMORY_BUDGET"])
        try Self.expectBadInput(["check", "--problem", big], mentions: ["over the memory budget"])
        // The same small problem passes with the default budget and fails under a 1 KiB one.
        let small = "conv2d n=1 ic=3 oc=8 in=8x8 k=3x3"
        #expect(try CLI.run(["problem", small]).status == 0)
        try Self.expectBadInput(
            ["problem", small], environment: ["KERNELCHECK_MEMORY_BUDGET": "1K"],
            mentions: ["over the memory budget of 1024 bytes"])
        // A fixture file whose cases exceed the budget is refused while reading, naming the file.
        let fixture = CLI.repositoryRoot + "/fixtures/loss.h5"
        try Self.expectBadInput(
            ["verify", fixture], environment: ["KERNELCHECK_MEMORY_BUDGET": "64"],
            mentions: [fixture, "over the memory budget of 64 bytes"])
    }

    // MARK: - Manifests and options

    @Test func badManifestNamesTheLine() throws {
        let path = Self.scratch("manifest.txt")
        try
            "# header\nconv | conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 | seed=1 | fill=normal(0,1)\nconv | conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 s=0 | seed=1 | fill=normal(0,1)\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        try Self.expectBadInput(["fixtures", "list", "--manifest", path], mentions: [path + ":3:", "invalid s"])
        try Self.expectBadInput(
            ["fixtures", "list", "--manifest", "/nonexistent/manifest.txt"], mentions: ["/nonexistent/manifest.txt"])
        try Self.expectBadInput(["fixtures", "list", "--op", "nope"], mentions: ["unknown op family 'nope'"])
    }

    @Test func unknownImplementationAndCommand() throws {
        let r = try CLI.run(["verify", "fixtures/loss.h5", "--impl", "fastest"])
        #expect(r.status == 2 && r.stderr.contains("fastest"), "\(r.stderr)")
        #expect(try CLI.run(["frobnicate"]).status == 2)
    }
}
