import KernelCheckCore
import KernelCheckProblems

// ResNet option-A shortcut: a strided copy into the middle channels of a zero tensor. Pure
// data movement (no arithmetic), so the result is exact. Spatial ranks 1–3 are handled as
// rank 3 with leading size-1, stride-1 dims; threads take disjoint (n, c) planes.

extension Tiled {
    /// `y[n, c + before, o…] = x[n, c, o·s]`; `y = 0` on the `before` leading and `after`
    /// trailing channels. The problem must be valid.
    public static func padProjectionAForward(
        _ p: PadProjectionAProblem, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let g = PadProjectionAGeometry(p)
        g.forEachPlane(p.batch * p.outChannels, threads: threads) { plane in
            let n = plane / p.outChannels, c = plane % p.outChannels - p.before
            let out = y + plane * g.outPlane
            guard c >= 0 && c < p.channels else { return zero(out, count: g.outPlane) }
            let src = x + (n * p.channels + c) * g.inPlane
            g.forEachLine { o, i, s2 in
                for o2 in 0..<g.outSize[2] { out[o + o2] = src[i + o2 * s2] }
            }
        }
    }

    /// `dx[n, c, o·s] = dy[n, c + before, o…]`, zero at the positions the stride skips.
    public static func padProjectionABackwardData(
        _ p: PadProjectionAProblem, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let g = PadProjectionAGeometry(p)
        g.forEachPlane(p.batch * p.channels, threads: threads) { plane in
            let out = dx + plane * g.inPlane
            zero(out, count: g.inPlane)
            // plane = n·C + c reads dY's plane n·C_out + c + before.
            let src = dy + (plane + plane / p.channels * (p.outChannels - p.channels) + p.before) * g.outPlane
            g.forEachLine { o, i, s2 in
                for o2 in 0..<g.outSize[2] { out[i + o2 * s2] = src[o + o2] }
            }
        }
    }
}

/// Sizes of a `PadProjectionAProblem` padded to three spatial dims.
struct PadProjectionAGeometry {
    let inSize: [Int], outSize: [Int], stride: [Int]
    let inPlane: Int, outPlane: Int

    init(_ p: PadProjectionAProblem) {
        let pad = 3 - p.inputSize.count
        inSize = Array(repeating: 1, count: pad) + p.inputSize
        outSize = Array(repeating: 1, count: pad) + p.outputSize
        stride = Array(repeating: 1, count: pad) + p.stride
        inPlane = inSize.reduce(1, *)
        outPlane = outSize.reduce(1, *)
    }

    /// `body(o, i, s2)` for each output line (o0, o1) of a plane, in order: its first
    /// output element `o` reads input element `i` of the plane, the next ones every `s2`.
    @inline(__always)
    func forEachLine(_ body: (_ o: Int, _ i: Int, _ s2: Int) -> Void) {
        var o = 0
        for o0 in 0..<outSize[0] {
            for o1 in 0..<outSize[1] {
                body(o, (o0 * stride[0] * inSize[1] + o1 * stride[1]) * inSize[2], stride[2])
                o += outSize[2]
            }
        }
    }

    /// `body(plane)` for planes `0..<planes`, split over threads (one for small tensors).
    func forEachPlane(_ planes: Int, threads: Int, _ body: (Int) -> Void) {
        Tiled.parallelChunks(planes, threads: self.threads(threads, planes: planes), grain: 1) { range in
            for plane in range { body(plane) }
        }
    }

    /// One thread for small tensors (waking threads costs more than the copy).
    func threads(_ requested: Int, planes: Int) -> Int {
        planes * max(inPlane, outPlane) < 1 << 16 ? 1 : requested
    }
}

/// ResNet's option-B shortcut: a 1×1 stride-`s` convolution without bias (lowered to SGEMM,
/// see `TiledConv`; at stride 1 it is a plain GEMM on `x`) followed by inference
/// BatchNorm. With `a[co] = γ[co] / √(σ²[co] + ε)` (computed in Double, rounded once):
///
/// - forward `y = a·(z − μ) + β`, `z = conv1x1_s(x, w)`;
/// - backward-data `dx = convᵀ(a·dy)`, computed as the convolution's backward-data with the
///   scaled weights `a[co]·w[co, ci]` (a Cout × Cin workspace instead of a copy of `dy`);
/// - backward-weights `dw[co, ci] = a[co] · Σ_{n,o} dy·x[n, ci, o·s]`;
/// - backward-γ `dγ[co] = Σ_{n,o} dy·(z − μ) / √(σ²+ε)`, recomputing `z` one image at a time;
/// - backward-β `dβ[co] = Σ_{n,o} dy`.
///
/// Shapes as in `PadProjectionBProblem`; `gamma`, `beta`, `mean`, `variance` have `C_out`
/// elements. The descriptor must be valid; an invalid one traps. Results are bit-identical
/// for any thread count.
extension Tiled {
    public static func padProjectionBForward(
        _ p: PadProjectionBProblem, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, variance: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        requireValid(p)
        TiledConv(p.convolution, tuning: .standard).forward(
            input: x, weights: w, bias: nil, output: y, threads: threads)
        let channels = p.outChannels, spatial = p.outputSize.reduce(1, *)
        let scale = batchNormScale(p, gamma: gamma, variance: variance)
        Tiled.forEachItem(p.batch * channels, threads: threads) { row, _ in
            let c = row % channels, out = y + row * spatial
            let a = scale[c], mu = mean[c], shift = beta[c]
            for i in 0..<spatial { out[i] = a * (out[i] - mu) + shift }
        }
    }

    public static func padProjectionBBackwardData(
        _ p: PadProjectionBProblem, dy: UnsafePointer<Float>,
        w: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
        variance: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        requireValid(p)
        let scale = batchNormScale(p, gamma: gamma, variance: variance)
        let cin = p.inChannels
        var scaled = [Float](repeating: 0, count: p.outChannels * cin)
        for co in 0..<p.outChannels {
            for ci in 0..<cin { scaled[co * cin + ci] = scale[co] * w[co * cin + ci] }
        }
        scaled.withUnsafeBufferPointer { scaledW in
            TiledConv(p.convolution, tuning: .standard)
                .backwardData(output: dy, weights: scaledW.baseAddress!, input: dx, threads: threads)
        }
    }

    public static func padProjectionBBackwardWeights(
        _ p: PadProjectionBProblem, x: UnsafePointer<Float>,
        dy: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
        variance: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        requireValid(p)
        TiledConv(p.convolution, tuning: .standard).backwardWeights(input: x, output: dy, weights: dw, threads: threads)
        let scale = batchNormScale(p, gamma: gamma, variance: variance)
        let cin = p.inChannels
        for co in 0..<p.outChannels {
            for ci in 0..<cin { dw[co * cin + ci] *= scale[co] }
        }
    }

    public static func padProjectionBBackwardGamma(
        _ p: PadProjectionBProblem, x: UnsafePointer<Float>,
        w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, variance: UnsafePointer<Float>,
        dgamma: UnsafeMutablePointer<Float>, threads: Int
    ) {
        requireValid(p)
        let channels = p.outChannels, spatial = p.outputSize.reduce(1, *)
        guard channels > 0 else { return }
        var single = TiledConv(p.convolution, tuning: .standard)
        single.batch = 1
        let imageIn = p.inChannels * p.inputSize.reduce(1, *), imageOut = channels * spatial
        // Σ_{n,o} dy·(z − μ) per channel, images in order; each channel summed by one thread.
        var sums = [Float](repeating: 0, count: channels)
        let z = Tiled.allocateFloats(max(imageOut, 1))
        defer { z.deallocate() }
        let pieces = min(channels, Tiled.resolveThreads(threads) * 4)
        sums.withUnsafeMutableBufferPointer { sums in
            let sums = sums.baseAddress!
            for n in 0..<p.batch {
                single.forward(input: x + n * imageIn, weights: w, bias: nil, output: z, threads: threads)
                let dyImage = dy + n * imageOut, zImage = UnsafePointer(z)
                Tiled.forEachItem(pieces, threads: threads) { piece, _ in
                    for c in (channels * piece / pieces)..<(channels * (piece + 1) / pieces) {
                        sums[c] += centeredDot(dyImage + c * spatial, zImage + c * spatial, mean[c], count: spatial)
                    }
                }
            }
        }
        for c in 0..<channels {
            dgamma[c] = Float(Double(sums[c]) / (Double(variance[c]) + p.epsilon).squareRoot())
        }
    }

    public static func padProjectionBBackwardBeta(
        _ p: PadProjectionBProblem, dy: UnsafePointer<Float>,
        dbeta: UnsafeMutablePointer<Float>, threads: Int
    ) {
        outputChannelSums(p, dy: dy, into: dbeta, threads: threads)
    }

    /// `a[co] = γ[co] / √(σ²[co] + ε)` in Double, rounded once to Float.
    private static func batchNormScale(
        _ p: PadProjectionBProblem, gamma: UnsafePointer<Float>,
        variance: UnsafePointer<Float>
    ) -> [Float] {
        (0..<p.outChannels).map { c in
            Float(Double(gamma[c]) / (Double(variance[c]) + p.epsilon).squareRoot())
        }
    }

    /// `Σ_i dy[i]·(z[i] − μ)` in a fixed order: 16 lanes, then the tail.
    @inline(__always)
    private static func centeredDot(
        _ dy: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ mu: Float,
        count: Int
    ) -> Float {
        var lanes = SIMD16<Float>()
        let muLanes = SIMD16<Float>(repeating: mu)
        let rawDy = UnsafeRawPointer(dy), rawZ = UnsafeRawPointer(z)
        var i = 0
        while i + 16 <= count {
            let d = rawDy.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            let v = rawZ.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            lanes.addProduct(d, v - muLanes)
            i += 16
        }
        var sum = lanes.sum()
        while i < count { sum += dy[i] * (z[i] - mu); i += 1 }
        return sum
    }
}
