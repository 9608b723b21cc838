import Foundation
import KernelCheckTiled

/// Timing of one benchmarked kernel: the median over `runs` timed samples (each the mean of
/// `callsPerRun` back-to-back calls) after an untimed warm-up.
public struct BenchmarkTiming: Sendable, CustomStringConvertible {
    /// What was timed, e.g. `sgemm 1024x1024x1024 nn`.
    public var name: String
    public var threads: Int
    /// Seconds per call of every timed sample, in the order they ran.
    public var seconds: [Double]
    /// Calls per timed sample (enough for a sample to last ≥ 20 ms).
    public var callsPerRun: Int = 1
    /// Floating-point operations of one call (a multiply-add counts 2).
    public var flops: Double
    /// Cores the process kept busy on average over the timed samples: its CPU time (user +
    /// system, every thread) over their wall time. Below `threads` when a thread waited for a
    /// core (another process, or a virtual CPU the host did not run): then the samples time
    /// the machine, not the kernel. Nil where not measured.
    public var coresUsed: Double? = nil

    public init(name: String, threads: Int, seconds: [Double], flops: Double, callsPerRun: Int = 1) {
        self.name = name
        self.threads = threads
        self.seconds = seconds
        self.flops = flops
        self.callsPerRun = callsPerRun
    }

    public var medianSeconds: Double {
        let s = seconds.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    public var minSeconds: Double { seconds.min() ?? .nan }
    /// `flops / medianSeconds / 1e9`.
    public var gflops: Double { flops / medianSeconds / 1e9 }

    public var description: String {
        let ms = medianSeconds * 1e3
        return
            "\(name) threads=\(threads): median \(ms.formatted3) ms, \(gflops.formatted3) GFLOP/s (\(seconds.count) runs × \(callsPerRun) calls)"
    }
}

extension Double {
    fileprivate var formatted3: String {
        let scaled = (self * 1000).rounded() / 1000
        return "\(scaled)"
    }
}

extension Benchmark {
    /// Times `body` (monotonic clock): untimed warm-up calls — at least `warmup` of them and
    /// at least 0.1 s — then `runs` timed samples, each of as many back-to-back calls as make it
    /// last at least `minimumSampleSeconds`; a sample's time is divided by its call count.
    ///
    /// Why repeat calls: a 256³ GEMM takes ≈ 80 µs at two threads, about a thread wake-up or
    /// a scheduler tick; timed alone, such a call measures whether the pool's worker happened
    /// to be awake (samples swung 0.55–1.25× between runs). Long samples time the kernel.
    /// `tools/bench_peers.py` times the peers by the same rule.
    public static func time(
        name: String, threads: Int, flops: Double, runs: Int = 5, warmup: Int = 1,
        minimumSampleSeconds: Double = 0.02, _ body: () -> Void
    ) -> BenchmarkTiming {
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        var warmCalls = 0
        let warmStart = clock.now
        var warmSeconds = 0.0
        repeat {
            body()
            warmCalls += 1
            warmSeconds = seconds(clock.now - warmStart)
        } while warmCalls < max(1, warmup) || warmSeconds < 0.1
        let perCall = warmSeconds / Double(warmCalls)
        let repetitions = perCall > 0 ? max(1, Int((minimumSampleSeconds / perCall).rounded(.up))) : 1
        var samples: [Double] = []
        let cpuStart = processCPUSeconds(), wallStart = clock.now
        for _ in 0..<max(1, runs) {
            let elapsed = clock.measure { for _ in 0..<repetitions { body() } }
            samples.append(seconds(elapsed) / Double(repetitions))
        }
        let wall = seconds(clock.now - wallStart), cpu = processCPUSeconds() - cpuStart
        var timing = BenchmarkTiming(
            name: name, threads: threads, seconds: samples, flops: flops, callsPerRun: repetitions)
        if wall > 0 && cpu >= 0 { timing.coresUsed = cpu / wall }
        return timing
    }

    /// User + system CPU seconds of this process so far, all threads (`getrusage`).
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
            let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
            let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return .nan }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Times the SGEMM register tile alone (`Tiled.runRegisterTile`, one thread): `calls`
    /// calls of `kc` steps per timed call of the body.
    public static func registerTile(kc: Int = GEMMBlocking.kc, calls: Int = 20_000, runs: Int = 5) -> BenchmarkTiming {
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        return time(
            name: "microkernel \(mr)x\(nr) kc=\(kc) x\(calls)", threads: 1,
            flops: 2 * Double(mr * nr * kc) * Double(calls), runs: runs
        ) {
            Tiled.runRegisterTile(kc: kc, calls: calls)
        }
    }
}
