import KernelCheckCore
import KernelCheckProblems

// Reference transposed convolution, every direction (see `ConvTransposeProblem` for shapes):
//
//   y[n, co, i·s − pb + k·d] += x[n, ci, i] · w[ci, co', k]      (scatter form), then y += b[co]
//   dx[n, ci, i]  = Σ_{co ∈ group(ci)} Σ_k w[ci, co', k] · dy[n, co, i·s − pb + k·d]
//   dw[ci, co', k] = Σ_n Σ_i x[n, ci, i] · dy[n, co, i·s − pb + k·d]
//   db[co]        = Σ_n Σ_o dy[n, co, o]
//
// where `group = ⌊ci/(C_in/g)⌋`, `co' = co − group·(C_out/g)` is the output channel's index
// inside its group, and products that land in the crop (`pb` at the start, `pe` at the end)
// or past the end are dropped; output positions that no product reaches (e.g. the
// `output_padding` tail) hold only the bias. The products are listed once by
// `ConvTransposeProblem.forEachProduct` (KernelCheckProblems). The forward pass scatters them
// itself rather than calling `convBackwardData`: the equality of the two is a test, not an
// assumption.

extension Reference {
    /// Forward transposed convolution `y = convᵀ(x; w) + b`, `y` of shape `p.yShape`:
    /// every product adds `x[n, ci, i] · w[ci, co', k]` to `y[n, co, i·s − pb + k·d]`.
    ///
    /// `b`, when given, is added to every output of its channel (the checked dispatcher passes
    /// it exactly when `p.hasBias`).
    public static func convTransposeForward<T>(
        _ p: ConvTransposeProblem, x: Tensor<T>, w: Tensor<T>, b: Tensor<T>? = nil
    ) -> Tensor<Double> {
        var y = Tensor<Double>(zeros: p.yShape)
        addProducts(p, x: x, w: w, to: &y)
        if let b { addBias(p, b, to: &y) }
        return y
    }

    /// Gradient w.r.t. the input, `dx = ∂⟨y, dy⟩/∂x`: each input pixel gathers `dy` from every
    /// output position it scattered into, weighted by the same kernel entries (this is an
    /// ordinary convolution of `dy`). `dx` has shape `p.xShape`.
    public static func convTransposeBackwardData<T>(
        _ p: ConvTransposeProblem, dy: Tensor<T>, w: Tensor<T>
    ) -> Tensor<Double> {
        productsBackwardData(p, dy: dy, w: w)
    }

    /// Gradient w.r.t. the weights, `dw = ∂⟨y, dy⟩/∂w`: each kernel entry collects every input
    /// pixel it scaled times the upstream gradient where the product landed. Shape `p.wShape`.
    public static func convTransposeBackwardWeights<T>(
        _ p: ConvTransposeProblem, x: Tensor<T>, dy: Tensor<T>
    ) -> Tensor<Double> {
        productsBackwardWeights(p, x: x, dy: dy)
    }

    /// Gradient w.r.t. the bias, `db[co] = Σ_n Σ_o dy[n, co, o]` (shape `p.bShape`).
    public static func convTransposeBackwardBias<T>(_ p: ConvTransposeProblem, dy: Tensor<T>) -> Tensor<Double> {
        sumOverBatchAndSpace(p, dy)
    }
}
