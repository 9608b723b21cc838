import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckTiled
import Testing

@testable import KernelCheckVerification

/// Path coverage: the tally and its gaps, and the suite's own coverage: a fixed-seed batch of
/// targeted draws plus named problems reaches every path the plans list
/// (`Tiled.coverageTargets`, built from `ConvPath.allCases` and `GEMMPath.allCases`), so a
/// new path that no test problem reaches fails here. Every problem is also checked, tiled
/// against the reference in exact mode.
@Suite struct PathCoverageTests {
    static let seed: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["KERNELCHECK_SEED"], let s = UInt64(text) { return s }
        return 20_261_206
    }()

    /// Two targets, three cases: counts per path and boundary, the gaps in target order,
    /// untracked cases, and merging.
    @Test func tallyCountsAndListsGaps() {
        let targets = [
            CoverageTarget(kernel: "k", path: "a", boundaries: [.bandSplit, .threadSplit]),
            CoverageTarget(kernel: "k", path: "b", boundaries: [.edgeTiles]),
        ]
        var c = PathCoverage()
        c.record(PlanCoverage(kernel: "k", path: "a", boundaries: [.bandSplit]))
        c.record(PlanCoverage(kernel: "k", path: "a", boundaries: [.bandSplit, .edgeTiles]))
        c.record(nil)
        #expect(c.rows["k/a"]?.cases == 2)
        #expect(c.rows["k/a"]?.boundaries == ["band_split": 2, "edge_tiles": 1])
        #expect(c.untracked == 1)
        #expect(c.cases == 3)
        #expect(
            c.gaps(targets) == [
                PathCoverage.Gap(kernel: "k", path: "a", boundary: "thread_split"),
                PathCoverage.Gap(kernel: "k", path: "b", boundary: nil),
            ])
        var twice = c
        twice.merge(c)
        #expect(twice.rows["k/a"]?.boundaries["band_split"] == 4)
        #expect(twice.untracked == 2)
        let table = c.table(targets)
        // 1 + 2 (a) and 1 + 1 (b) reachable items; reached: a and a × band_split. The gap
        // k/b is one line but two unreached items (the path and its boundary).
        #expect(table.contains("coverage: 2 of 5 paths and path × boundary pairs reached"))
        #expect(table.contains("gaps (2): k/a × thread_split, k/b"))
        #expect(CoverageDocument(c, targets: targets).gaps.count == 2)
    }

    /// Problems no small draw can reach: panel backward-weights needs Co·K ≥ 2¹⁶ (128 × 513
    /// here: 16 · 128 · 516 lane accumulators > 2²⁰) on a grid of ≥ 80 % useful lanes
    /// (2 × 13 flattened: 26 of 32), 1.7M multiply-adds; the lane backward-weights needs ≥ 32
    /// output channels × ≥ 128 taps on such a grid (32 × 135, 112K multiply-adds); shared-B
    /// SGEMM needs ≥ 4·mc rows, ≥ 16·nr columns and ≥ 2¹⁸ multiply-adds on 2 threads.
    static let named = [
        "conv2d n=1 ic=57 oc=128 in=2x13 k=3x3 p=1x1:1x1",
        "conv2d n=1 ic=15 oc=32 in=2x13 k=3x3 p=1x1:1x1",
        "matmul a=\(4 * GEMMBlocking.mc)x2 b=2x\(16 * GEMMBlocking.nr) ta=0 tb=0",
    ]

    /// The batch: for every target path, a targeted small draw (conv and transposed conv
    /// for the convolution's plans, matmul and linear for the GEMM's), then the named problems.
    static func batch() -> [Problem] {
        var rng = SeededRNG(seed: seed, stream: "path-coverage")
        var problems: [Problem] = []
        for target in Tiled.coverageTargets {
            let families: [OpFamily] =
                target.kernel.hasPrefix("conv_")
                ? [.conv, .convTranspose] : target.kernel == "gemm" ? [.matmul, .linear] : [.linear]
            for family in families {
                if let p = ProblemGenerator.targeted(family, target: target, boundary: nil, rng: &rng, size: .small) {
                    problems.append(p)
                }
            }
        }
        return problems + named.map { try! Problem.parse($0) }
    }

    @Test func suiteProblemsReachEveryPathAndPass() {
        let checker = CaseChecker(implementation: TiledImplementation(), threads: 2)
        var coverage = PathCoverage()
        for (index, problem) in Self.batch().enumerated() {
            for direction in problem.directions {
                let caseSeed = Sweep.caseSeed(Self.seed, index)
                let o = checker.check(problem, direction, seed: caseSeed, mode: .exact)
                coverage.record(problem, direction, threads: checker.threads)
                if o.status == .failed {
                    Issue.record("\(o.summary) [seed \(Self.seed)]\n  replay: \(o.replayCommand)")
                }
            }
        }
        let missing = coverage.gaps().filter { $0.boundary == nil }
        #expect(
            missing.isEmpty,
            "paths no test problem reaches (seed \(Self.seed); replay: KERNELCHECK_SEED=\(Self.seed) swift test --filter PathCoverageTests): \(missing)"
        )
    }

    /// The large class reaches the two boundaries that only large problems cross, which two
    /// planted mutants need (a band one row short; panel blocks overwriting each other): a
    /// padded image past 2¹⁸ floats, more than kc pixels with Co·K ≥ 2¹⁶. Only draws, no run.
    @Test func largeTargetsCrossTheirBoundaries() throws {
        var rng = SeededRNG(seed: Self.seed, stream: "large")
        for (path, boundary) in [(ConvPath.direct, CoverageBoundary.bandSplit), (.panelWeights, .panelBlocks)] {
            let target = try #require(Tiled.coverageTargets.first { $0.path == path.rawValue })
            let p = try #require(
                ProblemGenerator.targeted(.conv, target: target, boundary: boundary, rng: &rng, size: .large),
                "no large \(path) × \(boundary) draw [seed \(Self.seed)]")
            #expect(GeneratorSize.large.admits(p))
            #expect(!GeneratorSize.medium.admits(p) || boundary == .bandSplit)
            let reached = p.directions.compactMap { Tiled.coverage(of: p, $0, threads: 1) }
            #expect(reached.contains { $0.path == path.rawValue && $0.boundaries.contains(boundary) }, "\(p)")
        }
    }

    /// The rare pairs' own recipes (`ProblemGenerator+RarePairs.swift`): a large targeted
    /// draw of each, for a convolution and a transposed one, takes the path and crosses the
    /// boundary on this machine's blocking at 2 threads (the sweeps' count on a 2-core
    /// machine), and so does a medium draw of the two dual pairs. Only draws, no run.
    @Test func rarePairDrawsCrossTheirBoundaries() throws {
        var rng = SeededRNG(seed: Self.seed, stream: "rare-pairs-test")
        for pair in ProblemGenerator.rarePairs {
            let target = try #require(
                Tiled.coverageTargets.first { $0.kernel == pair.kernel && $0.path == pair.path.rawValue })
            let sizes: [GeneratorSize] = pair.path == .dual && pair.boundary != .nPastNc ? [.large, .medium] : [.large]
            for size in sizes {
                for family in [OpFamily.conv, .convTranspose] {
                    let p = try #require(
                        ProblemGenerator.targeted(
                            family, target: target, boundary: pair.boundary, rng: &rng, size: size, threads: 2),
                        "no \(size) \(family) draw of \(pair.kernel)/\(pair.path) × \(pair.boundary) [seed \(Self.seed)]"
                    )
                    #expect(size.admits(p), "\(p)")
                    let reached = p.directions.compactMap { Tiled.coverage(of: p, $0, threads: 2) }
                    #expect(
                        reached.contains {
                            $0.kernel == pair.kernel && $0.path == pair.path.rawValue
                                && $0.boundaries.contains(pair.boundary)
                        }, "\(p)")
                }
            }
        }
    }

    /// Every convolution path but the empty one is reached by grouped problems too: a
    /// dropped group offset changes nothing with one group, so a path that only ever saw
    /// ungrouped problems would hide it.
    @Test func targetedDrawsReachEveryConvPathWithGroups() {
        var rng = SeededRNG(seed: Self.seed, stream: "grouped-paths-test")
        let targets = Tiled.coverageTargets.filter { $0.kernel.hasPrefix("conv_") && $0.path != "empty" }
        for target in targets {
            // Panel backward-weights needs ≥ 128 output channels a group: large problems.
            let grouped = (0..<40).contains { attempt in
                guard
                    let p = ProblemGenerator.targeted(
                        .conv, target: target, boundary: nil, rng: &rng, size: attempt < 20 ? .medium : .large,
                        threads: 2),
                    case .conv(let c) = p, c.groups > 1
                else { return false }
                return p.directions.contains {
                    Tiled.coverage(of: p, $0, threads: 2).map { $0.kernel == target.kernel && $0.path == target.path }
                        ?? false
                }
            }
            #expect(
                grouped, "no grouped medium or large draw reached \(target.kernel)/\(target.path) [seed \(Self.seed)]")
        }
    }

    /// A sweep of the tiled implementation records one coverage case per checked case, and
    /// the reference records none (its paths are not the plan's).
    @Test func sweepRecordsTiledCasesOnly() {
        let tiled = Sweep(
            families: [.conv, .activation], cases: 6, seed: Self.seed, mode: .exact,
            checker: CaseChecker(implementation: TiledImplementation())
        ).run()
        #expect(tiled.coverage.cases == tiled.tallies.values.map(\.total).reduce(0, +))
        #expect(tiled.coverage.untracked > 0)
        let reference = Sweep(
            families: [.conv], cases: 3, seed: Self.seed, mode: .exact,
            checker: CaseChecker(implementation: ReferenceImplementation())
        ).run()
        #expect(reference.coverage.cases == 0)
    }
}
