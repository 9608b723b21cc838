import ArgumentParser
import KernelCheckTiled

/// `--kernel-variant NAME` (bench, check): the register-tile family of the tiled kernels for
/// this run, else `KERNELCHECK_KERNEL_VARIANT`, else the widest the CPU executes. An unknown
/// name, or a variant this CPU cannot execute, is bad input (exit 2) naming the variants it runs.
struct KernelVariantOption: ParsableArguments {
    @Option(
        name: .customLong("kernel-variant"),
        help:
            "Tiled kernel variant: avx512, avx2 or neon (default: KERNELCHECK_KERNEL_VARIANT, else the widest this CPU runs)."
    )
    var name: String?

    /// Validates the choice and makes it the process-wide `KernelVariant.selected`.
    func select() throws {
        do {
            if let name {
                KernelVariant.select(try KernelVariant.named(name))
            } else if let fromEnvironment = try KernelVariant.fromEnvironment() {
                KernelVariant.select(fromEnvironment)
            }
        } catch {
            throw BadInput(name == nil ? "\(error)" : "--kernel-variant: \(error)")
        }
    }
}
