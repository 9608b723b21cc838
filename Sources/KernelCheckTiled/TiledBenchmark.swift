import KernelCheckCore

/// Timing of one benchmarked kernel: median over `runs` timed calls after `warmup` untimed ones.
public struct BenchmarkTiming: Sendable, CustomStringConvertible {
    /// What was timed, e.g. `sgemm 1024x1024x1024 nn`.
    public var name: String
    public var threads: Int
    /// Every timed run, in seconds, in the order they ran.
    public var seconds: [Double]
    /// Floating-point operations of one call (a multiply-add counts 2).
    public var flops: Double

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
        return "\(name) threads=\(threads): median \(ms.formatted3) ms, \(gflops.formatted3) GFLOP/s (\(seconds.count) runs)"
    }
}

extension Double {
    fileprivate var formatted3: String {
        let scaled = (self * 1000).rounded() / 1000
        return "\(scaled)"
    }
}

extension Tiled {
    /// Times `body`: `warmup` untimed calls, then `runs` timed ones (monotonic clock).
    public static func benchmark(name: String, threads: Int, flops: Double, runs: Int = 5, warmup: Int = 1,
                                 _ body: () -> Void) -> BenchmarkTiming {
        for _ in 0..<max(0, warmup) { body() }
        let clock = ContinuousClock()
        var seconds: [Double] = []
        for _ in 0..<max(1, runs) {
            let elapsed = clock.measure(body)
            seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return BenchmarkTiming(name: name, threads: threads, seconds: seconds, flops: flops)
    }

    /// Benchmarks `sgemm` on `m×k · k×n` with seeded uniform(−1, 1) inputs (`C` overwritten).
    /// `threads` is passed through (0 = `defaultThreads`; the result reports the count used).
    /// Matrices are 64-byte aligned, as numpy's and PyTorch's large buffers are.
    public static func benchmarkGEMM(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                                     threads: Int, runs: Int = 5, warmup: Int = 1, seed: UInt64 = 1) -> BenchmarkTiming {
        var rng = SeededRNG(seed: seed, stream: "bench-sgemm")
        let a = AlignedFloats(count: m * k), b = AlignedFloats(count: k * n), c = AlignedFloats(count: m * n)
        defer { a.free(); b.free(); c.free() }
        for i in 0..<(m * k) { a.pointer[i] = Float(rng.nextUnitDouble() * 2 - 1) }
        for i in 0..<(k * n) { b.pointer[i] = Float(rng.nextUnitDouble() * 2 - 1) }
        let name = "sgemm \(m)x\(n)x\(k) \(transA ? "t" : "n")\(transB ? "t" : "n")"
        let used = resolveThreads(threads)
        return benchmark(name: name, threads: used, flops: 2 * Double(m) * Double(n) * Double(k),
                         runs: runs, warmup: warmup) {
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k,
                  a: a.pointer, lda: max(1, transA ? m : k), b: b.pointer, ldb: max(1, transB ? k : n),
                  c: c.pointer, ldc: max(1, n), accumulate: false, threads: used)
        }
    }

    /// Times the SGEMM register tile alone on packed panels that stay in L1 (`loadC`, one
    /// thread): the ceiling that cache blocking can approach. `calls` kernel calls per run.
    public static func benchmarkMicroKernel(kc: Int = GEMMBlocking.kc, calls: Int = 20_000, runs: Int = 5) -> BenchmarkTiming {
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let a = [Float](repeating: 0.5, count: mr * kc), b = [Float](repeating: 0.25, count: nr * kc)
        var c = [Float](repeating: 0, count: mr * nr)
        return a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    benchmark(name: "microkernel \(mr)x\(nr) kc=\(kc) x\(calls)", threads: 1,
                              flops: 2 * Double(mr * nr * kc) * Double(calls), runs: runs) {
                        for _ in 0..<calls {
                            microKernel(kc: kc, a: a.baseAddress!, b: b.baseAddress!, bStride: nr, c: c.baseAddress!, ldc: nr, loadC: true)
                        }
                    }
                }
            }
        }
    }

    /// The square SGEMM sizes of the project's benchmark list.
    public static let benchmarkGEMMSizes = [256, 1024, 2048]
}

/// A 64-byte-aligned Float buffer for benchmarks (freed explicitly).
struct AlignedFloats {
    let pointer: UnsafeMutablePointer<Float>

    init(count: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        pointer = raw.initializeMemory(as: Float.self, repeating: 0, count: max(1, count))
    }

    func free() { UnsafeMutableRawPointer(pointer).deallocate() }
}
