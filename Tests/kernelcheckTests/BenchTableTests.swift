import KernelCheckProblems
import Testing

@testable import KernelCheckVerification
@testable import kernelcheck

/// The notes under the bench table, on hand-made records: the real share of padded layers,
/// and the rows whose process had too few cores.
@Suite struct BenchTableTests {
    static func record(
        _ label: String, threads: Int, gflops: Double, real: Double? = nil, cores: Double? = nil
    ) -> BenchmarkRecord {
        BenchmarkRecord(
            label: label, problem: "conv2d n=1 ic=1 oc=1 g=1 in=4x4 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=0",
            direction: .fwd, implementation: "tiled", threads: threads, runs: 1, medianSeconds: 1, gflops: gflops,
            peakFraction: 0.5, realProducts: real, coresUsed: cores)
    }

    @Test func paddedLayersGetTheirRealShareOnce() {
        let report = BenchReport(
            machine: nil,
            records: [
                Self.record("padded", threads: 1, gflops: 10, real: 0.855625),
                Self.record("padded", threads: 2, gflops: 20, real: 0.855625),
                Self.record("unpadded", threads: 1, gflops: 10),
            ], peers: [])
        let table = report.markdownTable()
        #expect(
            table.hasSuffix("\n\nCounted FLOPs include the products with zero padding; the real share: padded 85.6 %."))
        #expect(!table.contains("†"))
    }

    @Test func rowsWithoutTheirCoresAreMarked() {
        // 2 threads: 1.6 cores < 0.85 · 2 = 1.7 is starved, 1.8 is not; 1 thread: 0.9 is not.
        let starved = Self.record("a", threads: 2, gflops: 20, cores: 1.6)
        #expect(starved.starved)
        #expect(!Self.record("a", threads: 2, gflops: 20, cores: 1.8).starved)
        #expect(!Self.record("a", threads: 1, gflops: 20, cores: 0.9).starved)
        #expect(!Self.record("a", threads: 2, gflops: 20).starved)
        let table = BenchReport(machine: nil, records: [starved], peers: []).markdownTable()
        #expect(table.contains("| a | fwd | – | 2 | 20.0 † | 50% |"))
        #expect(table.contains("\n\n† The process (KernelCheck's or the peer's) had less than 85 %"))
    }

    @Test func aPeerWithoutItsCoresIsMarked() {
        let row = Self.record("a", threads: 2, gflops: 20, cores: 2.0)
        func torch(_ cores: Double?) -> PeerRecord {
            PeerRecord(
                framework: "torch", version: "2", op: "conv2d", direction: "fwd", problem: row.problem, threads: 2,
                runs: 1, median_s: 1, gflops: 25, cores_used: cores)
        }
        let starved = BenchReport(machine: nil, records: [row], peers: [torch(1.0)]).markdownTable()
        #expect(starved.contains("| a | fwd | – | 2 | 20.0 | 50% | – | 25.0 † |"))
        #expect(starved.contains("† The process (KernelCheck's or the peer's)"))
        let fed = BenchReport(machine: nil, records: [row], peers: [torch(1.9)]).markdownTable()
        #expect(!fed.contains("†"))
    }
}
