import Foundation
import KernelCheckCore
import KernelCheckHDF5
import KernelCheckProblems
import KernelCheckTestSupport
import Testing

@testable import KernelCheckFixtures

/// Low-precision fixture files: inputs stored in the problem's `dt` (fixtures/SCHEMA.md), and
/// the typed error of each way a file written by anyone can get that wrong. The hostile files
/// come from h5py (`tools/craft_hostile_inputs.py lowp-*`), each naming its dataset and the
/// first offending flat index.
@Suite struct FixtureLowPrecisionTests {
    static let bf16Case = "matmul a=1x2 b=2x1 ta=0 tb=0 dt=bf16"
    static let e4m3Case = "matmul a=1x2 b=2x1 ta=0 tb=0 dt=f8e4m3"

    static func expectError(_ kind: String, _ expected: (String) -> FixtureError) throws {
        let path = try #require(try TestSupport.craftHostile(kind))
        defer { TestSupport.removeScratch(TestSupport.scratch(of: path)) }
        #expect(throws: expected(path)) { try FixtureFile.read(path) }
    }

    @Test(.enabled(if: TestSupport.h5pyAvailable)) func float32ValueThatIsNotABf16NumberIsNamed() throws {
        try Self.expectError("lowp-float32-values") {
            .unrepresentable(
                file: $0, group: Self.bf16Case, role: "a", stored: "float32", type: "bf16", index: 1,
                value: Double(Float(0.1)), expected: "uint16 with attribute dtype='bfloat16' (dt=bf16)")
        }
    }

    @Test(.enabled(if: TestSupport.h5pyAvailable)) func float32OfBf16NumbersIsStillATypeMismatch() throws {
        try Self.expectError("lowp-float32-exact") {
            .wrongDataType(
                file: $0, group: Self.bf16Case, role: "a",
                expected: "uint16 with attribute dtype='bfloat16' (dt=bf16)",
                found: "float32 (every value is a bf16 number, but the stored type must be bf16's too)")
        }
    }

    @Test(.enabled(if: TestSupport.h5pyAvailable)) func patternsWithoutTheDtypeAttributeAreRefused() throws {
        try Self.expectError("lowp-missing-dtype") {
            .wrongDataType(
                file: $0, group: Self.bf16Case, role: "a",
                expected: "uint16 with attribute dtype='bfloat16' (dt=bf16)", found: "uint16 without a dtype attribute")
        }
    }

    @Test(.enabled(if: TestSupport.h5pyAvailable)) func anotherFormatsTagIsRefused() throws {
        try Self.expectError("lowp-wrong-dtype") {
            .wrongDataType(
                file: $0, group: Self.e4m3Case, role: "b",
                expected: "uint8 with attribute dtype='float8_e4m3fn' (dt=f8e4m3)",
                found: "uint8 with attribute dtype='float8_e5m2'")
        }
    }

    @Test(.enabled(if: TestSupport.h5pyAvailable)) func e4m3NaNPatternIsNamedWithItsIndex() throws {
        try Self.expectError("lowp-e4m3-nan") {
            .nonFinitePattern(
                file: $0, group: Self.e4m3Case, role: "b", index: 1, type: "f8e4m3", pattern: 0x7F)
        }
    }

    @Test(.enabled(if: TestSupport.h5pyAvailable)) func halfInfinityIsNamedWithItsIndex() throws {
        try Self.expectError("lowp-half-inf") {
            .nonFinitePattern(
                file: $0, group: "matmul a=1x2 b=2x1 ta=0 tb=0 dt=f16", role: "a", index: 1, type: "f16",
                pattern: 0x7C00)
        }
    }

    /// A narrow dataset in an f32 case (a file that forgot `dt=` in its problem) is refused too.
    @Test func narrowDatasetInAFloat32CaseIsATypeMismatch() throws {
        let directory = try TestSupport.makeScratchDirectory("lowp-f32-case")
        defer { TestSupport.removeScratch(directory) }
        let path = directory.appendingPathComponent("case.h5").path
        let entry = ManifestEntry(
            family: .matmul, problem: try Problem.parse("matmul a=1x2 b=2x1 dt=bf16"), seed: 3,
            fill: .normal(mean: 0, std: 1))
        let file = try HDF5File.create(path)
        try FixtureFile.writeInputs([entry], to: file)
        // Rename the case to its f32 problem: the stored uint16 patterns no longer match.
        let f32 = "matmul a=1x2 b=2x1 ta=0 tb=0"
        try file.createGroup("/" + f32)
        for (role, t) in entry.makeInputs() {
            try file.write(bytes: ScalarType.bf16.encode(t.storage), as: .uint16, shape: t.shape, to: "/\(f32)/\(role)")
            try file.setAttribute("dtype", .string("bfloat16"), on: "/\(f32)/\(role)")
        }
        for (name, value) in [("problem", f32), ("fill", "normal(0,1)"), ("oracle", "hand"), ("directions", "fwd")] {
            try file.setAttribute(name, .string(value), on: "/" + f32)
        }
        try file.setAttribute("schema_version", .int(1), on: "/" + f32)
        try file.setAttribute("seed", .int(3), on: "/" + f32)
        try file.write([0] as [Double], shape: [1, 1], to: "/\(f32)/y")
        #expect(
            throws: FixtureError.wrongDataType(
                file: path, group: f32, role: "a", expected: "float32",
                found: "uint16 with attribute dtype='bfloat16'")
        ) { try FixtureFile.readCase(file, group: f32) }
        try file.close()
    }

    /// Written inputs are the seeded draws rounded to dt and read back as dt numbers within
    /// one rounding of the unrounded draw (checked against the rounding error rule, not
    /// against `ScalarType.rounded`).
    @Test(arguments: [ScalarType.bf16, .f16, .f8e4m3, .f8e5m2])
    func inputsAreTheDrawsRoundedToDt(_ dt: ScalarType) throws {
        let directory = try TestSupport.makeScratchDirectory("lowp-inputs-\(dt)")
        defer { TestSupport.removeScratch(directory) }
        let path = directory.appendingPathComponent("case.h5").path
        let problem = try Problem.parse("linear x=3x4 out=2 bias=1 dt=\(dt)")
        let entry = ManifestEntry(family: .linear, problem: problem, seed: 11, fill: .normal(mean: 0, std: 1))
        let file = try HDF5File.create(path)
        try FixtureFile.writeInputs([entry], to: file)
        for spec in problem.descriptor.directions.flatMap({ problem.descriptor.inputs(for: $0) }) {
            let read = try FixtureFile.readInput(file, problem.description, spec, dt: dt)
            let draw = Fill.normal(mean: 0, std: 1).tensor(spec.shape, seed: 11, role: spec.role) as Tensor<Float>
            for (r, x) in zip(read.storage, draw.storage) {
                #expect(dt.represents(r), "\(spec.role): \(r) is not a \(dt) number")
                // Round to nearest moves a value by at most u·|x| (normal range) or half the
                // subnormal spacing.
                let e = abs(Double(r) - Double(x))
                #expect(e <= dt.unitRoundoff * abs(Double(x)) + dt.smallestSubnormal / 2, "\(spec.role): \(x) → \(r)")
            }
        }
        try file.close()
    }
}
