import KernelCheckProblems

// Losses reduce a whole tensor to one number. The sum runs over fixed blocks of
// `lossBlock` elements (independent of the thread count), each block summed in Double with
// eight SIMD lanes in a fixed order, then the block sums are added in increasing block
// order: the same bits for every thread count and every run.

extension Tiled {
    /// Elements per partial sum of a loss.
    static let lossBlock = 1 << 14

    /// `y = scale · Σ (x − t)²` with `scale = 1/n` (mse) or 1 (sumsq); `y` is one Float.
    ///
    /// Differences, squares and sums are taken in Double (exact differences of floats,
    /// one rounding per square and per addition), so only the final rounding to Float is
    /// visible at float precision.
    public static func lossForward(
        _ p: LossProblem, x: UnsafePointer<Float>, target: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let count = p.shape.reduce(1, *)
        let blocks = (count + lossBlock - 1) / lossBlock
        var partial = [Double](repeating: 0, count: blocks)
        partial.withUnsafeMutableBufferPointer { partial in
            let sums = partial.baseAddress!
            parallelChunks(blocks, threads: count < 1 << 16 ? 1 : threads, grain: 1) { range in
                for block in range {
                    let lo = block * lossBlock
                    sums[block] = sumOfSquaredDifferences(x + lo, target + lo, count: min(lossBlock, count - lo))
                }
            }
        }
        var total = 0.0
        for s in partial { total += s }
        let scale = p.kind == .mse ? 1 / Double(count) : 1
        y.pointee = Float(total * scale)
    }

    /// `dx = dy · scale · 2(x − t)` elementwise (`dy` is the upstream scalar, one Float).
    public static func lossBackward(
        _ p: LossProblem, x: UnsafePointer<Float>, target: UnsafePointer<Float>,
        dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let count = p.shape.reduce(1, *)
        let scale = p.kind == .mse ? 1 / Double(count) : 1
        let factor = 2 * scale * Double(dy.pointee)
        parallelChunks(count, threads: threads, grain: 1 << 16) { range in
            for i in range { dx[i] = Float(factor * (Double(x[i]) - Double(target[i]))) }
        }
    }

    /// `Σ (x − t)²` over `count` elements in Double: eight lanes (lane `l` takes elements
    /// `l, l+8, …`), reduced in lane order, then the tail in order.
    static func sumOfSquaredDifferences(_ x: UnsafePointer<Float>, _ t: UnsafePointer<Float>, count: Int) -> Double {
        var acc = SIMD8<Double>()
        var i = 0
        while i + 8 <= count {
            let xv = SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
            let tv = SIMD8<Double>(UnsafeRawPointer(t + i).loadUnaligned(as: SIMD8<Float>.self))
            let d = xv - tv
            acc = acc.addingProduct(d, d)
            i += 8
        }
        var sum = 0.0
        for lane in 0..<8 { sum += acc[lane] }
        while i < count {
            let d = Double(x[i]) - Double(t[i])
            sum += d * d
            i += 1
        }
        return sum
    }
}
