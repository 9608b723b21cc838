import CKernelSupport
import Foundation
import Synchronization

/// What the benchmark needs to know about the CPU it runs on, detected once per process:
/// the model name, the vector instruction set, the data caches, the kernel variant and its
/// tiles, and the fp32 FMA peak of one core at the variant's vector width, *measured* by a
/// loop that keeps only registers busy. Nothing here is a constant of one machine: the same
/// binary reports a different profile on another CPU.
public struct MachineProfile: Sendable, Codable {
    /// `model name` from /proc/cpuinfo (or the architecture when the OS does not say).
    public var cpuModel: String
    /// `avx512f`, `avx2+fma` or `none` (from cpuid; `none` on non-x86 CPUs).
    public var vectorISA: String
    /// Data and unified caches of core 0, e.g. `L1d 48K, L2 1024K, L3 32768K`.
    public var caches: String
    /// Cores this process may use.
    public var cores: Int
    /// Measured fp32 multiply-add rate of one core in the vectors of `kernelVariant`
    /// (`SIMD16`, `SIMD8` or `SIMD4`), 2 flops per lane-FMA, in GFLOP/s.
    public var peakGFLOPSPerCore: Double
    /// The kernel variant the tiled kernels run (`KernelVariant.current` when profiled).
    public var kernelVariant: String?
    /// The variant's SGEMM register tile, `rows×columns`.
    public var registerTile: String
    /// The SGEMM blocking and the convolution's L2 budgets (in floats) derived from the
    /// caches, e.g. `kc 512, mc 96, nc 2048; conv column 128Ki, band 256Ki, weights 64Ki`.
    public var blocking: String?

    /// The profile of this machine for `KernelVariant.current`; the peak of each vector
    /// width is measured on first use (about 0.1 s).
    public static var current: MachineProfile { profile(for: KernelVariant.current) }

    /// The profile of this machine running `variant`.
    public static func profile(for variant: KernelVariant) -> MachineProfile {
        let bits = Int(kc_cpu_vector_bits())
        let peak = measuredPeaks.withLock { peaks in
            if let known = peaks[variant.lanes] { return known }
            let measured = measurePeak(lanes: variant.lanes)
            peaks[variant.lanes] = measured
            return measured
        }
        return MachineProfile(
            cpuModel: model, vectorISA: bits == 512 ? "avx512f" : bits == 256 ? "avx2+fma" : "none",
            caches: caches, cores: Tiled.defaultThreads, peakGFLOPSPerCore: peak,
            kernelVariant: variant.rawValue, registerTile: variant.registerTileName,
            blocking: "kc \(GEMMBlocking.kc), mc \(GEMMBlocking.mc), nc \(GEMMBlocking.nc); "
                + ConvTuning.standard.budgetSummary)
    }

    private static let measuredPeaks = Mutex<[Int: Double]>([:])
    private static let model = cpuModelName(), caches = cacheSummary()

    /// One line for a benchmark header.
    public var summary: String {
        "\(cpuModel); \(vectorISA); \(caches); \(cores) cores; kernel variant \(kernelVariant ?? "?") "
            + "(SGEMM tile \(registerTile), \(blocking ?? "blocking ?")); measured fp32 peak "
            + "\(String(format: "%.1f", peakGFLOPSPerCore)) GFLOP/s per core at its vector width"
    }

    static func cpuModelName() -> String {
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let colon = line.firstIndex(of: ":")
        {
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        #if arch(x86_64)
            return "x86_64"
        #elseif arch(arm64)
            return "arm64"
        #else
            return "unknown CPU"
        #endif
    }

    /// Caches of cpu0 as the kernel lists them in sysfs (empty when it does not).
    static func cacheSummary() -> String {
        let parts = CacheSizes.sysfsEntries().filter { $0.type != "Instruction" }.map { entry in
            "L\(entry.level)\(entry.type == "Data" ? "d" : "") \(entry.bytes >> 10)K"
        }
        return parts.isEmpty ? "caches unknown" : parts.joined(separator: ", ")
    }

    /// Seconds the calling thread has run on a CPU (`CLOCK_THREAD_CPUTIME_ID`): time it
    /// waited for a core is not counted.
    static func threadCPUSeconds() -> Double {
        var t = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0 else { return .nan }
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Best of five timings of `fmaChains` (12 independent multiply-add chains, enough to
    /// cover the FMA latency of two pipelines, in vectors of `lanes` floats; 12 chains of
    /// `SIMD8` fit 16 AVX2 registers), each about 10 ms, after 50 ms of the same loop: a
    /// core that was idle runs at a lower clock for its first milliseconds, and a peak
    /// measured then is below what the kernels reach later. Timed in this thread's CPU time,
    /// so that a core shared with another process (or a virtual CPU the host paused) does not
    /// lower the peak that every `% peak` divides by.
    static func measurePeak(lanes: Int) -> Double {
        func run(_ iterations: Int) -> Double {
            var sink: Float = 0
            let start = threadCPUSeconds()
            switch lanes {
            case 16: sink = fmaChains16(iterations)
            case 8: sink = fmaChains8(iterations)
            default: sink = fmaChains4(iterations)
            }
            let seconds = threadCPUSeconds() - start
            return sink.isFinite && seconds.isFinite ? seconds : 0
        }
        // Grow the trial until it lasts 10 ms; the growing is the warm-up.
        var iterations = 10_000
        var warmUp = 0.0
        while true {
            let seconds = run(iterations)
            warmUp += seconds
            if seconds >= 0.01 && warmUp >= 0.05 { break }
            if seconds < 0.01 { iterations *= 2 }
            if iterations > 1 << 30 { break }
        }
        var best = 0.0
        for _ in 0..<5 {
            let seconds = run(iterations)
            if seconds > 0 { best = max(best, Double(12 * lanes * 2 * iterations) / seconds / 1e9) }
        }
        return best
    }
}

/// `acc = acc · m + c` on 12 accumulators of `V` (each converges to c / (1 − m): no
/// overflow, no subnormals); returns their sum so the loop cannot be removed.
@inline(__always)
func fmaChains<V: SIMD>(_ iterations: Int, _: V.Type) -> Float where V.Scalar == Float {
    let m = V(repeating: 0.9999), c = V(repeating: 1e-4)
    var a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c
    for _ in 0..<iterations {
        a0 = c.addingProduct(a0, m); a1 = c.addingProduct(a1, m); a2 = c.addingProduct(a2, m)
        a3 = c.addingProduct(a3, m); a4 = c.addingProduct(a4, m); a5 = c.addingProduct(a5, m)
        a6 = c.addingProduct(a6, m); a7 = c.addingProduct(a7, m); a8 = c.addingProduct(a8, m)
        a9 = c.addingProduct(a9, m); a10 = c.addingProduct(a10, m); a11 = c.addingProduct(a11, m)
    }
    return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
}

@inline(never) func fmaChains16(_ iterations: Int) -> Float { fmaChains(iterations, SIMD16<Float>.self) }
@inline(never) func fmaChains8(_ iterations: Int) -> Float { fmaChains(iterations, SIMD8<Float>.self) }
@inline(never) func fmaChains4(_ iterations: Int) -> Float { fmaChains(iterations, SIMD4<Float>.self) }

extension Tiled {
    /// Runs the SGEMM register tiles of `KernelVariant.current` on one 12 × 32 panel pair
    /// `calls` times, on packed panels of `kc` steps that stay in L1 (C loaded and stored each
    /// call): the ceiling that cache blocking can approach.
    public static func runRegisterTile(kc: Int, calls: Int) {
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let variant = KernelVariant.current
        let a = [Float](repeating: 0.5, count: mr * kc), b = [Float](repeating: 0.25, count: nr * kc)
        var c = [Float](repeating: 0, count: mr * nr)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    for _ in 0..<calls {
                        panelKernel(
                            variant, rows: mr, kc: kc, a: a.baseAddress!, b: b.baseAddress!, bStride: nr,
                            c: c.baseAddress!, ldc: nr, loadC: true)
                    }
                }
            }
        }
    }
}
