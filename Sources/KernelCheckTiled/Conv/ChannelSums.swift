import KernelCheckCore
import KernelCheckProblems

/// Problems whose output is `batch × outChannels × Π outputSize` floats, channels first.
protocol ChannelsFirstOutput: ProblemDescriptor {
    var batch: Int { get }
    var outChannels: Int { get }
    var outputSize: [Int] { get }
}

extension ConvProblem: ChannelsFirstOutput {}
extension ConvTransposeProblem: ChannelsFirstOutput {}
extension PadProjectionBProblem: ChannelsFirstOutput {}

extension Tiled {
    /// `db[c] = Σ_n Σ_{o…} dy[n, c, o…]` (`convChannelSums`): the gradient of a per-channel
    /// bias added to the output of `p`, which must be valid.
    static func outputChannelSums<P: ChannelsFirstOutput>(
        _ p: P, dy: UnsafePointer<Float>, into db: UnsafeMutablePointer<Float>, threads: Int
    ) {
        requireValid(p)
        convChannelSums(
            dy, batch: p.batch, channels: p.outChannels, spatial: p.outputSize.reduce(1, *), into: db,
            threads: threads)
    }
}

/// Per-channel sums over images and positions, `out[c] = Σ_n Σ_p t[n, c, p]`: the bias
/// gradient. Channels are split across threads; each channel is summed by one thread in a
/// fixed order (16 SIMD lanes per image row, lanes folded, then images in order).
func convChannelSums(
    _ t: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
    into out: UnsafeMutablePointer<Float>, threads: Int
) {
    guard channels > 0 else { return }
    let pieces = min(channels, Tiled.resolveThreads(threads) * 4)
    Tiled.forEachItem(pieces, threads: threads) { piece, _ in
        for c in (channels * piece / pieces)..<(channels * (piece + 1) / pieces) {
            var total: Float = 0
            for n in 0..<batch { total += convRowSum(t + (n * channels + c) * spatial, count: spatial) }
            out[c] = total
        }
    }
}

/// Sum of `count` contiguous floats in a fixed order: 16 lanes, then the tail.
@inline(__always)
func convRowSum(_ p: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD16<Float>()
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 16 <= count {
        lanes += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    var sum = lanes.sum()
    while i < count { sum += p[i]; i += 1 }
    return sum
}
