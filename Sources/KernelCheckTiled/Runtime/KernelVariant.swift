import CKernelSupport
import Foundation
import Synchronization

/// The register-tile family the tiled kernels run, chosen at run time.
///
/// Every variant is generic Swift SIMD code compiled on every host; they differ in the vector
/// width of their accumulators and so in the register tile that fits the register file:
///
/// | variant | accumulators | SGEMM register tile | fits |
/// | --- | --- | --- | --- |
/// | `avx512` | `SIMD16<Float>` | 12 × 32 (24 accumulators) | 32 zmm registers |
/// | `avx2` | `SIMD8<Float>` | 6 × 16 (12 accumulators) | 16 ymm registers |
/// | `neon` | `SIMD4<Float>` | 12 × 8 (24 accumulators) | 32 NEON (or xmm) registers |
///
/// All variants read the same packed panels (12 rows of A, 32 columns of B per step): the
/// narrower tiles cover a 12 × 32 panel pair in 4 passes. Every element of C is still one
/// chain (zero, one fused multiply-add per k step in increasing k, then the optional add of
/// C), so for a given blocking every variant gives the same bits.
public enum KernelVariant: String, CaseIterable, Sendable, Codable {
    case avx512, avx2, neon

    /// Floats per accumulator vector.
    public var lanes: Int {
        switch self {
        case .avx512: 16
        case .avx2: 8
        case .neon: 4
        }
    }

    /// The SGEMM register tile, rows × columns of C held in accumulators.
    public var registerTile: (rows: Int, columns: Int) {
        switch self {
        case .avx512: (12, 32)
        case .avx2: (6, 16)
        case .neon: (12, 8)
        }
    }

    /// `12x32` etc.
    public var registerTileName: String { "\(registerTile.rows)x\(registerTile.columns)" }

    /// What the CPU must offer to execute the variant's code as written: AVX-512F for
    /// `avx512`, AVX2 with FMA for `avx2` (x86-64 only); `neon` (128-bit vectors: NEON on
    /// arm64, SSE on x86-64) runs on every supported CPU.
    public var requirement: String {
        switch self {
        case .avx512: "AVX-512F"
        case .avx2: "AVX2 and FMA"
        case .neon: "128-bit vectors"
        }
    }

    /// The variants this CPU can execute, widest first.
    public static let executable: [KernelVariant] = {
        #if arch(arm64)
            return [.neon]
        #else
            let bits = Int(kc_cpu_vector_bits())
            return allCases.filter { bits >= $0.lanes * 32 || $0 == .neon }
        #endif
    }()

    /// The widest variant this CPU executes (AVX-512F → `avx512`, AVX2+FMA → `avx2`, else `neon`).
    public static var detected: KernelVariant { executable[0] }

    /// The environment variable that forces a variant for a whole process.
    public static let environmentVariable = "KERNELCHECK_KERNEL_VARIANT"

    /// The variant called `name`, if this CPU can execute it.
    public static func named(_ name: String) throws(KernelVariantError) -> KernelVariant {
        guard let variant = KernelVariant(rawValue: name.lowercased()) else {
            throw .unknown(name: name, executable: executable)
        }
        guard executable.contains(variant) else { throw .notExecutable(variant, executable: executable) }
        return variant
    }

    /// The variant `KERNELCHECK_KERNEL_VARIANT` names (nil when unset or empty).
    public static func fromEnvironment() throws(KernelVariantError) -> KernelVariant? {
        guard let name = ProcessInfo.processInfo.environment[environmentVariable], !name.isEmpty else { return nil }
        do { return try named(name) } catch { throw .environment(error) }
    }

    /// The process-wide variant: `select(_:)`'s choice, else the environment's, else the
    /// detected one. A malformed environment value falls back to the detected variant here;
    /// the CLI validates it first (`fromEnvironment`) and exits 2.
    public static var selected: KernelVariant {
        if let chosen = processChoice.withLock({ $0 }) { return chosen }
        return environmentChoice ?? detected
    }

    /// Makes `variant` the process-wide choice (the CLI's `--kernel-variant`).
    public static func select(_ variant: KernelVariant) { processChoice.withLock { $0 = variant } }

    /// The variant the calling code runs: a `with(_:_:)` override, else `selected`. Kernels
    /// read it once per call (or work item), never per register tile.
    public static var current: KernelVariant { override ?? selected }

    /// Runs `body` with `variant` as `current`, on this thread and on the pool workers that
    /// the tiled kernels start from inside it (tests run each variant this way).
    public static func with<R>(_ variant: KernelVariant, _ body: () throws -> R) rethrows -> R {
        try $override.withValue(variant, operation: body)
    }

    @TaskLocal static var override: KernelVariant?
    private static let processChoice = Mutex<KernelVariant?>(nil)
    private static let environmentChoice: KernelVariant? = try? fromEnvironment()
}

/// A variant that does not exist or that this CPU cannot execute.
public enum KernelVariantError: Error, Equatable, CustomStringConvertible, Sendable {
    case unknown(name: String, executable: [KernelVariant])
    case notExecutable(KernelVariant, executable: [KernelVariant])
    /// The same, found in `KERNELCHECK_KERNEL_VARIANT`.
    indirect case environment(KernelVariantError)

    public var description: String {
        func list(_ variants: [KernelVariant]) -> String { variants.map(\.rawValue).joined(separator: ", ") }
        switch self {
        case .unknown(let name, let executable):
            return "unknown kernel variant '\(name)'; this machine runs: \(list(executable))"
        case .notExecutable(let variant, let executable):
            return "kernel variant '\(variant.rawValue)' needs \(variant.requirement), which this CPU lacks; "
                + "this machine runs: \(list(executable))"
        case .environment(let inner):
            return "\(KernelVariant.environmentVariable): \(inner)"
        }
    }
}
