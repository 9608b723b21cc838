// Stand-in: replaced by the packed SGEMM from the tiledgemm branch
import Foundation

extension Tiled {
    /// C[m×n] = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n], row-major with leading dimensions.
    /// op(A) = A (A is m×k, lda ≥ k) or Aᵀ when transA (A stored k×m, lda ≥ m); likewise B.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, threads: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += av * bv
                }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum
            }
        }
    }

    /// Threads used when a kernel is called with `threads: 0`: every core.
    public static var defaultThreads: Int { max(ProcessInfo.processInfo.activeProcessorCount, 1) }
}
