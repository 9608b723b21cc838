extension Tensor {
    /// Channels-first → channels-last: `N, C, S₁…S_r` → `N, S₁…S_r, C` (NCHW → NHWC for r = 2).
    /// `y[n, s…, c] = x[n, c, s…]`.
    public func channelsLast() throws(TensorError) -> Tensor {
        guard rank >= 3 else { throw .rankTooSmallForLayout(shape: shape, minimum: 3) }
        let n = shape[0], c = shape[1]
        let spatial = Shape.elementCount(Array(shape[2...]))!
        var out = storage
        for b in 0..<n {
            for ch in 0..<c {
                for s in 0..<spatial {
                    out[(b * spatial + s) * c + ch] = storage[(b * c + ch) * spatial + s]
                }
            }
        }
        return try Tensor(shape: [n] + Array(shape[2...]) + [c], storage: out)
    }

    /// Channels-last → channels-first: `N, S₁…S_r, C` → `N, C, S₁…S_r` (NHWC → NCHW).
    public func channelsFirst() throws(TensorError) -> Tensor {
        guard rank >= 3 else { throw .rankTooSmallForLayout(shape: shape, minimum: 3) }
        let n = shape[0], c = shape[rank - 1]
        let spatialDims = Array(shape[1..<(rank - 1)])
        let spatial = Shape.elementCount(spatialDims)!
        var out = storage
        for b in 0..<n {
            for s in 0..<spatial {
                for ch in 0..<c {
                    out[(b * c + ch) * spatial + s] = storage[(b * spatial + s) * c + ch]
                }
            }
        }
        return try Tensor(shape: [n, c] + spatialDims, storage: out)
    }
}
