import KernelCheckCore
import KernelCheckProblems

/// The reference implementations: naive loops a reader can check against the formula in each
/// descriptor's doc comment, accumulating in Float64 whatever the input scalar type.
///
/// Every op lives in its own file (`Convolution.swift`, `TransposedConvolution.swift`, …) with
/// all its directions. Functions take tensors whose shapes match the descriptor (a caller
/// bug otherwise: they trap); `Reference.run` is the checked entry point used by the engine
/// and the fixtures, which validates roles and shapes and throws `ReferenceError`.
public enum Reference {}

extension Reference {
    /// The loop nest of every matrix-shaped product in the reference (matmul, linear, the
    /// projection shortcut): for each `(r, s)` of a `rows × cols` grid, in row-major order, the
    /// Float64 sum `start(r, s) + Σ_{t < inner} term(r, s, t)`, accumulated term by term in
    /// order of `t`, is added to `out.storage[index(r, s)]`.
    ///
    /// Adding rather than storing lets a broadcast matmul operand collect its gradient over the
    /// batches; the other callers write each element once into zeros, where the two agree.
    static func addSums(
        to out: inout Tensor<Double>, rows: Int, cols: Int, inner: Int, at index: (Int, Int) -> Int,
        start: (Int, Int) -> Double = { _, _ in 0 }, of term: (_ r: Int, _ s: Int, _ t: Int) -> Double
    ) {
        for r in 0..<rows {
            for s in 0..<cols {
                var sum = start(r, s)
                for t in 0..<inner { sum += term(r, s, t) }
                out.storage[index(r, s)] += sum
            }
        }
    }

    /// A tensor of `shape` whose elements, in row-major order, are the sums of `addSums` over
    /// a `rows × cols` grid (`rows · cols` is the element count of `shape`).
    static func sums(
        _ shape: [Int], rows: Int, cols: Int, inner: Int, start: (Int, Int) -> Double = { _, _ in 0 },
        of term: (_ r: Int, _ s: Int, _ t: Int) -> Double
    ) -> Tensor<Double> {
        var out = Tensor<Double>(zeros: shape)
        addSums(to: &out, rows: rows, cols: cols, inner: inner, at: { r, s in r * cols + s }, start: start, of: term)
        return out
    }
}
