import KernelCheckCore
import KernelCheckProblems

/// The optimized implementations: packed, cache-blocked, SIMD register tiles, multi-threaded.
/// Mirrors `KernelCheckReference` file for file and never imports it.
public enum Tiled {}
