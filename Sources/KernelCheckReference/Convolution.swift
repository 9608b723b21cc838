import KernelCheckCore
import KernelCheckProblems

// Reference convolution, every direction (see `ConvProblem` for shapes and the forward formula):
//
//   y[n, co, o]   = b[co] + Σ_{ci ∈ group(co)} Σ_k w[co, ci', k] · x[n, ci, o·s − pb + k·d]
//   dx[n, ci, i]  = Σ_{co ∈ group(ci)} Σ_{(o, k) : o·s − pb + k·d = i} w[co, ci', k] · dy[n, co, o]
//   dw[co, ci', k] = Σ_n Σ_o x[n, ci, o·s − pb + k·d] · dy[n, co, o]
//   db[co]        = Σ_n Σ_o dy[n, co, o]
//
// where `group = ⌊co/(C_out/g)⌋`, `ci' = ci − group·(C_in/g)` is the input channel's index
// inside its group, and the terms whose input index `o·s − pb + k·d` falls in the padding are
// zero (they are simply not enumerated). The three sums run over the same products
// `y[o] ~ x[o·s − pb + k·d] ~ w[k]`, listed once by `ConvProblem.forEachProduct`
// (KernelCheckProblems), so the padding, stride, dilation and group arithmetic is written
// once; each direction accumulates, in Float64, the two factors that are not its output
// (the sums below, shared with the transposed convolution, whose products are the same
// kind with x and y exchanged).

extension Reference {
    /// Forward convolution `y = conv(x; w) + b`, `y` of shape `p.yShape`:
    /// `y[n, co, o] = b[co] + Σ w[co, ci', k] · x[n, ci, o·s − pb + k·d]` over the products.
    ///
    /// `b`, when given, is added to every output of its channel; whether the problem has a
    /// bias is for the caller to decide (the checked dispatcher passes it exactly when
    /// `p.hasBias`).
    public static func convForward<T>(
        _ p: ConvProblem, x: Tensor<T>, w: Tensor<T>, b: Tensor<T>? = nil
    ) -> Tensor<Double> {
        var y = Tensor<Double>(zeros: p.yShape)
        if let b { addBias(p, b, to: &y) }
        addProducts(p, x: x, w: w, to: &y)
        return y
    }

    /// Gradient w.r.t. the input, `dx = ∂⟨y, dy⟩/∂x` (the adjoint of `x ↦ conv(x; w)`):
    /// every product `w · x[i]` of the forward pass sends `w · dy[o]` back to `dx[i]`.
    /// `dx` has shape `p.xShape`; input pixels no window touches get 0.
    public static func convBackwardData<T>(_ p: ConvProblem, dy: Tensor<T>, w: Tensor<T>) -> Tensor<Double> {
        productsBackwardData(p, dy: dy, w: w)
    }

    /// Gradient w.r.t. the weights, `dw = ∂⟨y, dy⟩/∂w`: each weight collects the input pixel it
    /// multiplied times the upstream gradient of the output it fed, over batch and space.
    /// `dw` has shape `p.wShape`.
    public static func convBackwardWeights<T>(_ p: ConvProblem, x: Tensor<T>, dy: Tensor<T>) -> Tensor<Double> {
        productsBackwardWeights(p, x: x, dy: dy)
    }

    /// Gradient w.r.t. the bias, `db[co] = Σ_n Σ_o dy[n, co, o]` (shape `p.bShape`).
    public static func convBackwardBias<T>(_ p: ConvProblem, dy: Tensor<T>) -> Tensor<Double> {
        sumOverBatchAndSpace(p, dy)
    }
}

// MARK: - The sums both convolutions are made of

extension Reference {
    /// `y[yi] += x[xi] · w[wi]` for every product `(yi, xi, wi)` of `p`, in Float64.
    static func addProducts<P: ConvolutionGeometry, T>(_ p: P, x: Tensor<T>, w: Tensor<T>, to y: inout Tensor<Double>) {
        let xs = values(x, "x", p.xShape, p), ws = values(w, "w", p.wShape, p)
        p.forEachProduct { yi, xi, wi in y.storage[yi] += xs[xi] * ws[wi] }
    }

    /// `dx[xi] = Σ w[wi] · dy[yi]` over the products `(yi, xi, wi)` of `p` (shape `p.xShape`).
    static func productsBackwardData<P: ConvolutionGeometry, T>(_ p: P, dy: Tensor<T>, w: Tensor<T>) -> Tensor<Double> {
        let dys = values(dy, "dy", p.yShape, p), ws = values(w, "w", p.wShape, p)
        var dx = Tensor<Double>(zeros: p.xShape)
        p.forEachProduct { yi, xi, wi in dx.storage[xi] += ws[wi] * dys[yi] }
        return dx
    }

    /// `dw[wi] = Σ x[xi] · dy[yi]` over the products `(yi, xi, wi)` of `p` (shape `p.wShape`).
    static func productsBackwardWeights<P: ConvolutionGeometry, T>(
        _ p: P, x: Tensor<T>, dy: Tensor<T>
    ) -> Tensor<Double> {
        let xs = values(x, "x", p.xShape, p), dys = values(dy, "dy", p.yShape, p)
        var dw = Tensor<Double>(zeros: p.wShape)
        p.forEachProduct { yi, xi, wi in dw.storage[wi] += xs[xi] * dys[yi] }
        return dw
    }

    /// The elements of the operand `name` of `p` as Float64, after checking its shape.
    static func values<T>(_ t: Tensor<T>, _ name: String, _ shape: [Int], _ p: some ProblemDescriptor) -> [Double] {
        precondition(t.shape == shape, "\(name) is \(t.shape), \(p) needs \(shape)")
        return t.storage.map { Double($0) }
    }

    /// `y[n, c, spatial…] += b[c]`: the bias of convolution (added before the products) and of
    /// transposed convolution (added after them).
    static func addBias<P: ConvolutionGeometry, T>(_ p: P, _ b: Tensor<T>, to y: inout Tensor<Double>) {
        let bs = values(b, "b", p.bShape, p), plane = p.outputSize.reduce(1, *)
        for i in y.storage.indices { y.storage[i] += bs[(i / plane) % p.outChannels] }
    }

    /// `db[c] = Σ_n Σ_o dy[n, c, o]` (shape `p.bShape`).
    static func sumOverBatchAndSpace<P: ConvolutionGeometry, T>(_ p: P, _ dy: Tensor<T>) -> Tensor<Double> {
        let dys = values(dy, "dy", p.yShape, p), plane = p.outputSize.reduce(1, *)
        var db = Tensor<Double>(zeros: p.bShape)
        for n in 0..<p.batch {
            for c in 0..<p.outChannels {
                for o in 0..<plane { db.storage[c] += dys[(n * p.outChannels + c) * plane + o] }
            }
        }
        return db
    }
}
