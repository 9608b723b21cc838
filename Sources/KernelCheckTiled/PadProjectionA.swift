import KernelCheckProblems

// ResNet option-A shortcut: a strided copy into the middle channels of a zero tensor. Pure
// data movement (no arithmetic), so the result is exact. Spatial ranks 1–3 are handled as
// rank 3 with leading size-1, stride-1 dims; threads take disjoint (n, c) planes.

extension Tiled {
    /// `y[n, c + before, o…] = x[n, c, o·s]`; `y = 0` on the `before` leading and `after`
    /// trailing channels. The problem must be valid.
    public static func padProjectionAForward(_ p: PadProjectionAProblem, x: UnsafePointer<Float>,
                                             y: UnsafeMutablePointer<Float>, threads: Int) {
        let g = PadProjectionAGeometry(p)
        let planes = p.batch * p.outChannels
        parallelChunks(planes, threads: g.threads(threads, planes: planes), grain: 1) { range in
            for plane in range {
                let n = plane / p.outChannels, co = plane % p.outChannels
                let out = y + plane * g.outPlane
                let c = co - p.before
                guard c >= 0 && c < p.channels else {
                    zero(out, count: g.outPlane)
                    continue
                }
                let src = x + (n * p.channels + c) * g.inPlane
                var o = 0
                for o0 in 0..<g.outSize[0] {
                    for o1 in 0..<g.outSize[1] {
                        let row = src + (o0 * g.stride[0] * g.inSize[1] + o1 * g.stride[1]) * g.inSize[2]
                        let s2 = g.stride[2]
                        for o2 in 0..<g.outSize[2] { out[o + o2] = row[o2 * s2] }
                        o += g.outSize[2]
                    }
                }
            }
        }
    }

    /// `dx[n, c, o·s] = dy[n, c + before, o…]`, zero at the positions the stride skips.
    public static func padProjectionABackwardData(_ p: PadProjectionAProblem, dy: UnsafePointer<Float>,
                                                  dx: UnsafeMutablePointer<Float>, threads: Int) {
        let g = PadProjectionAGeometry(p)
        let planes = p.batch * p.channels
        parallelChunks(planes, threads: g.threads(threads, planes: planes), grain: 1) { range in
            for plane in range {
                let n = plane / p.channels, c = plane % p.channels
                let out = dx + plane * g.inPlane
                zero(out, count: g.inPlane)
                let src = dy + (n * p.outChannels + c + p.before) * g.outPlane
                var o = 0
                for o0 in 0..<g.outSize[0] {
                    for o1 in 0..<g.outSize[1] {
                        let row = out + (o0 * g.stride[0] * g.inSize[1] + o1 * g.stride[1]) * g.inSize[2]
                        let s2 = g.stride[2]
                        for o2 in 0..<g.outSize[2] { row[o2 * s2] = src[o + o2] }
                        o += g.outSize[2]
                    }
                }
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

    /// One thread for small tensors (waking threads costs more than the copy).
    func threads(_ requested: Int, planes: Int) -> Int {
        planes * max(inPlane, outPlane) < 1 << 16 ? 1 : requested
    }
}
