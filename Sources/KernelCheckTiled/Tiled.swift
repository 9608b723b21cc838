import KernelCheckCore
import KernelCheckProblems

/// The optimized implementations: packed, cache-blocked, SIMD register tiles, multi-threaded.
/// `Ops/` mirrors `KernelCheckReference` file for file (one op per file, every direction);
/// `GEMM/` and `Conv/` hold the kernels the ops run on and `Runtime/` the thread pool,
/// workspaces and the machine profile. Never imports the reference.
public enum Tiled {}

extension Tiled {
    /// Traps on a descriptor that fails validation (other than the memory budget, which
    /// guards allocation by callers, not these loops): the pointer-based kernels index
    /// memory from the descriptor's shapes and must never run on a malformed one.
    /// Callers validate first (`Problem.parse`, the runner) and get a typed `ProblemError`.
    static func requireValid<P: ProblemDescriptor>(_ p: P) {
        do {
            try p.validate()
        } catch {
            if case .exceedsMemoryBudget = error { return }
            preconditionFailure("Tiled kernel called with an invalid problem '\(p)': \(error)")
        }
    }
}
