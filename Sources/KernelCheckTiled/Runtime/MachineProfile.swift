import CKernelSupport
import Foundation

/// What the benchmark needs to know about the CPU it runs on, detected once per process:
/// the model name, the vector instruction set, the data caches, and the fp32 FMA peak of one
/// core, *measured* by a loop that keeps only registers busy. Nothing here is a constant of
/// one machine: the same binary reports a different profile on another CPU.
public struct MachineProfile: Sendable, Codable {
    /// `model name` from /proc/cpuinfo (or the architecture when the OS does not say).
    public var cpuModel: String
    /// `avx512f`, `avx2+fma` or `none` (from cpuid; `none` on non-x86 CPUs).
    public var vectorISA: String
    /// Data and unified caches of core 0, e.g. `L1d 48K, L2 1024K, L3 32768K`.
    public var caches: String
    /// Cores this process may use.
    public var cores: Int
    /// Measured fp32 multiply-add rate of one core, 2 flops per lane-FMA, in GFLOP/s.
    public var peakGFLOPSPerCore: Double
    /// The SGEMM register tile, `mr×nr`.
    public var registerTile: String

    /// The profile of this machine, measured on first use (about 0.1 s).
    public static let current = MachineProfile.detect()

    static func detect() -> MachineProfile {
        let bits = Int(kc_cpu_vector_bits())
        return MachineProfile(
            cpuModel: cpuModelName(), vectorISA: bits == 512 ? "avx512f" : bits == 256 ? "avx2+fma" : "none",
            caches: cacheSummary(), cores: Tiled.defaultThreads,
            peakGFLOPSPerCore: measurePeak(vectorBits: bits),
            registerTile: "\(GEMMBlocking.mr)x\(GEMMBlocking.nr)")
    }

    /// One line for a benchmark header.
    public var summary: String {
        "\(cpuModel); \(vectorISA); \(caches); \(cores) cores; measured fp32 peak "
            + "\(String(format: "%.1f", peakGFLOPSPerCore)) GFLOP/s per core; SGEMM tile \(registerTile)"
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
        let base = "/sys/devices/system/cpu/cpu0/cache"
        var parts: [String] = []
        for index in 0..<8 {
            func read(_ name: String) -> String? {
                (try? String(contentsOfFile: "\(base)/index\(index)/\(name)", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let level = read("level"), let type = read("type"), let size = read("size") else { continue }
            if type == "Instruction" { continue }
            parts.append("L\(level)\(type == "Data" ? "d" : "") \(size)")
        }
        return parts.isEmpty ? "caches unknown" : parts.joined(separator: ", ")
    }

    /// Best of three timings of `fmaChains`: 12 independent multiply-add chains, enough to
    /// cover the FMA latency of two pipelines, in the widest vectors the CPU executes
    /// (`SIMD16` for AVX-512; `SIMD8` otherwise, so that the 12 chains fit 16 AVX2 registers).
    static func measurePeak(vectorBits: Int) -> Double {
        let clock = ContinuousClock()
        let iterations = 200_000
        var best = 0.0
        for _ in 0..<3 {
            var sink: Float = 0
            let elapsed = clock.measure {
                sink = vectorBits == 512 ? fmaChains16(iterations) : fmaChains8(iterations)
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let lanes = vectorBits == 512 ? 16 : 8
            if seconds > 0, sink.isFinite { best = max(best, Double(12 * lanes * 2 * iterations) / seconds / 1e9) }
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

extension Tiled {
    /// Runs the SGEMM register tile `calls` times on packed panels of `kc` steps that stay in
    /// L1 (C loaded and stored each call): the ceiling that cache blocking can approach.
    public static func runRegisterTile(kc: Int, calls: Int) {
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let a = [Float](repeating: 0.5, count: mr * kc), b = [Float](repeating: 0.25, count: nr * kc)
        var c = [Float](repeating: 0, count: mr * nr)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    for _ in 0..<calls {
                        microKernel(
                            kc: kc, a: a.baseAddress!, b: b.baseAddress!, bStride: nr, c: c.baseAddress!, ldc: nr,
                            loadC: true)
                    }
                }
            }
        }
    }
}
