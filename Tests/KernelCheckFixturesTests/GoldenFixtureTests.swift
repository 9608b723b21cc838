import Foundation
import KernelCheckCore
import KernelCheckHDF5
import KernelCheckProblems
import KernelCheckVerification
import Testing

@testable import KernelCheckFixtures

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Every committed golden fixture — expected values from PyTorch in float64 — passes for the
/// reference and for the tiled kernels, one test per op family.
@Suite struct GoldenFixtureTests {
    @Test(arguments: OpFamily.allCases)
    func committedFixturesPass(_ family: OpFamily) throws {
        let path = "\(repositoryRoot)/fixtures/\(family.rawValue).h5"
        let cases = try FixtureFile.read(path)
        let manifest = try Manifest.load("\(repositoryRoot)/fixtures/manifest.txt")
        // The file holds exactly the manifest's cases of this family.
        #expect(
            Set(cases.map(\.problem.description))
                == Set(manifest.entries.filter { $0.family == family }.map(\.problem.description)))
        var worst = 0.0, checks = 0
        for fixture in cases {
            #expect(fixture.oracle.hasPrefix("torch "), "\(fixture.group): oracle \(fixture.oracle)")
            #expect(
                Set(fixture.directions) == Set(fixture.problem.directions),
                "\(fixture.group): not every direction has expected values")
            // The numbers only: determinism runs on every fixture in `kernelcheck verify` (CI)
            // and on random problems in the property suite; here it would triple a debug run.
            for o in FixtureVerification.verify(
                fixture, implementations: [ReferenceImplementation(), TiledImplementation()], determinism: false)
            {
                checks += 1
                // Kernels that accumulate in float32 only may decline an acc=f16 case (skipped,
                // never failed); the reference judges every case.
                let mayDecline =
                    o.implementation != "reference" && fixture.problem.descriptor.precision.accumulation != .f32
                #expect(
                    o.status == .passed || (mayDecline && o.status == .skipped),
                    "\(path) [\(fixture.group)] \(o.direction.rawValue) \(o.implementation): \(o.summary)")
                if o.implementation == "reference", let u = o.comparison?.boundUtilization { worst = max(worst, u) }
            }
        }
        print("\(family.rawValue): \(cases.count) cases, \(checks) checks, worst reference bound utilization \(worst)")
    }

    /// At least 60 low-precision cases, and every narrow input type meets conv (1-D, 2-D and
    /// 3-D), transposed conv (1-D, 2-D, 3-D), matmul and linear, plus acc=f16 and odt=f32
    /// variants; every case has every direction of its op (checked above).
    @Test func lowPrecisionCasesCoverEveryTypeAndOp() throws {
        let manifest = try Manifest.load("\(repositoryRoot)/fixtures/manifest.txt")
        let narrow = manifest.entries.filter { !$0.problem.descriptor.precision.isFloat32 }
        #expect(narrow.count >= 60)
        let ops = ["conv1d", "conv2d", "conv3d", "convt1d", "convt2d", "convt3d", "matmul", "linear"]
        for dt in [ScalarType.bf16, .f16, .f8e4m3, .f8e5m2] {
            for op in ops {
                #expect(
                    narrow.contains {
                        $0.problem.descriptor.precision.storage == dt && $0.problem.description.hasPrefix(op + " ")
                    },
                    "no \(op) case with dt=\(dt)")
            }
        }
        for family in [OpFamily.conv, .convTranspose, .matmul, .linear] {
            let mine = narrow.map(\.problem).filter { $0.family == family }.map(\.descriptor.precision)
            #expect(mine.contains { $0.accumulation == .f16 }, "\(family.rawValue): no acc=f16 case")
            #expect(mine.contains { $0.output == .f32 }, "\(family.rawValue): no odt=f32 case")
        }
    }

    /// Inputs are a pure function of the manifest line: writing them twice gives identical
    /// bytes (the regenerate command relies on this).
    @Test func inputsAreByteIdenticalAcrossRuns() throws {
        let manifest = try Manifest.load("\(repositoryRoot)/fixtures/manifest.txt")
        let entries = Array(manifest.entries.filter { $0.family == .conv }.prefix(5))
        var snapshots: [[String: [UInt32]]] = []
        for _ in 0..<2 {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "kc-inputs-\(UUID().uuidString).h5"
            ).path
            defer { unlink(path) }
            let file = try HDF5File.create(path)
            try FixtureFile.writeInputs(entries, to: file)
            try file.close()
            let reopened = try HDF5File.open(path)
            var bits: [String: [UInt32]] = [:]
            for e in entries {
                for (role, _) in e.makeInputs() {
                    bits[e.problem.description + "/" + role] = try reopened.readFloats(
                        "/" + e.problem.description + "/" + role
                    ).values.map(\.bitPattern)
                }
            }
            snapshots.append(bits)
        }
        #expect(snapshots[0] == snapshots[1])
        #expect(snapshots[0].count >= 10)
    }

    /// The committed files' inputs are exactly what the manifest's seeds produce today: a
    /// change to the RNG or the fills would silently detach fixtures from their manifest.
    @Test func committedInputsMatchTheManifestSeeds() throws {
        let manifest = try Manifest.load("\(repositoryRoot)/fixtures/manifest.txt")
        for family in OpFamily.allCases {
            let cases = Dictionary(
                uniqueKeysWithValues: try FixtureFile.read("\(repositoryRoot)/fixtures/\(family.rawValue).h5").map {
                    ($0.problem.description, $0)
                })
            for entry in manifest.entries where entry.family == family {
                let stored = try #require(cases[entry.problem.description])
                for (role, tensor) in entry.makeInputs() {
                    #expect(stored.inputs[role] == tensor, "\(family.rawValue) [\(entry.problem)] \(role)")
                }
            }
        }
    }
}
