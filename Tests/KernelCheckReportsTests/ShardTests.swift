import Foundation
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckVerification
import Testing

@testable import KernelCheckReports

/// `--shard i/n` splits the nightly so that the n shards together run exactly what the
/// unsharded run does (same seed): the same random (problem, direction) cases, the same
/// fixture cases, the same benchmarks, and merged reports with the same counts and histograms.
@Suite struct ShardTests {
    static let shardCount = 3

    func configuration(_ implementation: any KernelImplementation, shard: Int, of count: Int) -> NightlyConfiguration {
        var c = NightlyConfiguration(
            seed: 20261127, seedSource: "given", budgetSeconds: 600, implementations: [implementation])
        c.phases = [.sweep, .fixtures]
        c.sweepCases = 20
        c.mediumCases = 0
        c.fixtureFiles = ["activation.h5", "loss.h5", "padproj_a.h5", "linear.h5"].map(TestSupport.fixture)
        c.shard = shard
        c.shardCount = count
        return c
    }

    @Test func theShardsTogetherRunExactlyTheUnshardedCases() throws {
        let whole = RecordingImplementation()
        let unsharded = NightlyRunner(configuration: configuration(whole, shard: 0, of: 1)).run()
        var union = Set<String>()
        var shards: [NightlyReport] = []
        for i in 0..<Self.shardCount {
            let recorder = RecordingImplementation()
            shards.append(NightlyRunner(configuration: configuration(recorder, shard: i, of: Self.shardCount)).run())
            union.formUnion(recorder.keys)
        }
        #expect(whole.keys.count > 20)
        let missing = whole.keys.subtracting(union), extra = union.subtracting(whole.keys)
        #expect(
            missing.isEmpty && extra.isEmpty, "missing \(missing.sorted().prefix(3)); extra \(extra.sorted().prefix(3))"
        )
        #expect(unsharded.failures.isEmpty)

        // Fixture cases: each shard reads different files; together all of them.
        let fixtureSets = shards.map { Set($0.fixtureCases) }
        #expect(fixtureSets.reduce(0) { $0 + $1.count } == unsharded.fixtureCases.count)
        #expect(fixtureSets.reduce(Set<String>()) { $0.union($1) } == Set(unsharded.fixtureCases))

        // The merged report has the unsharded counts, maxima and histograms (times differ):
        // a case run by two shards would be counted twice.
        let merged = try NightlyReport.merge(shards)
        func comparable(_ r: NightlyReport) -> [ResultRow] {
            r.rows.map {
                var x = $0; x.seconds = 0; return x
            }
        }
        let mismatched = zip(comparable(merged), comparable(unsharded)).filter { $0 != $1 }.map(\.0.key)
        #expect(merged.rows.count == unsharded.rows.count)
        #expect(mismatched.isEmpty, "rows that differ: \(mismatched.prefix(5))")
        #expect(merged.fixtureCases == unsharded.fixtureCases)
        #expect(merged.randomProblems == unsharded.randomProblems)
        #expect(merged.settings.shards == [0, 1, 2])
    }

    @Test func benchmarkLayersAreSplitRoundRobin() {
        func run(_ shard: Int, _ count: Int) -> [String] {
            var c = NightlyConfiguration(
                seed: 1, seedSource: "given", budgetSeconds: 60, implementations: [TiledImplementation()])
            c.phases = [.bench]
            c.benchRuns = 1
            c.benchThreads = [1]
            c.benchCases = (1...5).map { n in
                NightlyBenchCase(
                    label: "matmul \(n)", problem: try! Problem.parse("matmul a=\(n)x4 b=4x3"),
                    directions: [.fwd, .bwdData])
            }
            c.shard = shard
            c.shardCount = count
            return NightlyRunner(configuration: c).run().benchmarks.map(\.key)
        }
        let whole = run(0, 1)
        #expect(whole.count == 10)
        let parts = (0..<2).map { run($0, 2) }
        #expect(parts[0].count == 6 && parts[1].count == 4)  // layers 1, 3, 5 and 2, 4
        #expect(Set(parts[0] + parts[1]) == Set(whole))
    }

    @Test func mergingRefusesMismatchedShards() throws {
        var a = Crafted.report(), b = Crafted.report(seed: 1)
        #expect(throws: ReportError.self) { try NightlyReport.merge([a, b]) }
        b = Crafted.report()
        #expect(throws: ReportError.self) { try NightlyReport.merge([a, b]) }  // shard 0 twice
        a.settings.shardCount = 2
        b.settings.shardCount = 2
        b.settings.shards = [1]
        let m = try NightlyReport.merge([a, b])
        #expect(m.rows.count == a.rows.count)
        #expect(m.rows.map(\.cases) == a.rows.map { $0.cases * 2 })
        #expect(m.benchmarks.count == 1)
        #expect(throws: ReportError.self) { try NightlyReport.merge([]) }
    }

    @Test func aTimeBudgetCutIsRecordedNotSilent() {
        var c = NightlyConfiguration(
            seed: 3, seedSource: "given", budgetSeconds: 0.000_001, implementations: [TiledImplementation()])
        c.phases = [.sweep, .bench]
        c.sweepCases = 50
        c.mediumCases = 50
        let r = NightlyRunner(configuration: c).run()
        #expect(r.randomProblems == 0)
        #expect(r.skipped.contains { $0.phase == "sweep_exact" && $0.item == "50 of 50 problems" })
        #expect(r.skipped.contains { $0.phase == "sweep_bound" })
        #expect(
            r.skipped.contains { $0.phase == "sweep_exact_medium" }
                && r.skipped.contains { $0.phase == "sweep_bound_medium" })
        #expect(
            r.skipped.filter { $0.phase == "bench" }.count
                == NightlyBenchCase.standard.map { $0.directions.count * 2 }.reduce(0, +))
        #expect(r.skipped.contains { $0.phase == "fixtures" && $0.reason == "phase not selected" })
    }
}

/// A benchmark the diff finds slower is re-measured: an unlucky median is replaced by a
/// faster one and the alarm goes away; a real slowdown stays.
@Suite struct SlowdownConfirmationTests {
    func runner() -> NightlyRunner {
        var c = NightlyConfiguration(
            seed: 1, seedSource: "given", budgetSeconds: 60, implementations: [TiledImplementation()])
        c.phases = [.bench]
        c.benchRuns = 1
        c.benchThreads = [1]
        c.benchCases = [
            NightlyBenchCase(
                label: "matmul tiny", problem: try! Problem.parse("matmul a=8x4 b=4x3"), directions: [.fwd])
        ]
        return NightlyRunner(configuration: c)
    }

    @Test func anUnluckyMedianIsReplacedAndTheAlarmClears() {
        let r = runner()
        var baseline = r.run()
        // A generous baseline (1 s for a microsecond kernel) so the re-measurement clears it
        // whatever the machine's noise; the current median is as if the machine was busy.
        baseline.benchmarks[0].medianSeconds = 1
        var current = baseline
        current.benchmarks[0].medianSeconds = 100
        current.compare(with: baseline, path: "b.json")
        #expect(current.diff?.performanceRegressions.count == 1)
        r.confirmSlowdowns(&current, baseline: baseline, path: "b.json", deadline: Date().addingTimeInterval(30))
        #expect(current.benchmarks[0].medianSeconds < 1)
        #expect(current.benchmarks[0].attempts == 2)
        #expect(current.diff?.hasAlarm == false)
    }

    @Test func aRealSlowdownStaysAfterReMeasuring() {
        let r = runner()
        var baseline = r.run()
        baseline.benchmarks[0].medianSeconds = 1e-15  // a baseline no kernel can match
        var current = r.run()
        current.compare(with: baseline, path: "b.json")
        r.confirmSlowdowns(&current, baseline: baseline, path: "b.json", deadline: Date().addingTimeInterval(30))
        #expect(current.benchmarks[0].attempts == 3)
        #expect(current.diff?.performanceRegressions.count == 1)
        #expect(current.diff?.hasAlarm == true)
        // Without time left nothing is re-measured, and that is recorded.
        var late = r.run()
        late.compare(with: baseline, path: "b.json")
        r.confirmSlowdowns(&late, baseline: baseline, path: "b.json", deadline: Date())
        #expect(late.benchmarks[0].attempts == nil)
        #expect(late.skipped.contains { $0.item.hasPrefix("re-measuring") })
    }
}
