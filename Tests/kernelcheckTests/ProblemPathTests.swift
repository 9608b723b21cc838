import Testing

/// `kernelcheck problem` names the tiled path of every direction, as oneDNN's verbose mode
/// names its implementation, so a reader knows which code a number or a failure belongs to.
@Suite struct ProblemPathTests {
    /// Under the `neon` variant (every CPU runs it), so that the backward-data is `direct`:
    /// `avx512` takes the channel lanes there.
    @Test func problemPrintsTheTiledPathOfEachDirection() throws {
        let r = try CLI.run(
            ["problem", "convt2d n=1 ic=256 oc=256 in=16x16 k=4x4 s=2x2 p=same bias=1"],
            environment: ["KERNELCHECK_KERNEL_VARIANT": "neon"])
        #expect(r.status == 0, "\(r.stderr)")
        let paths = r.stdout.split(separator: "\n").filter { $0.hasPrefix("    tiled path: ") }
        // fwd, bwd_data, bwd_weights, bwd_bias in the problem's direction order.
        #expect(paths.count == 4, "\(r.stdout)")
        guard paths.count == 4 else { return }
        #expect(paths[0].hasPrefix("    tiled path: directPhases (4 output phases of 2×2, 2×2, 2×2, 2×2 taps"))
        #expect(paths[1].hasPrefix("    tiled path: direct ("))
        #expect(paths[2].hasPrefix("    tiled path: panelWeights ("))
        #expect(paths[3] == "    tiled path: channelSums (per-channel sums of dy)")
    }

    @Test func nonConvolutionOpsNameTheirKernelFamily() throws {
        let r = try CLI.run(["problem", "matmul a=4x5 b=5x6"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("    tiled path: sgemm (one SGEMM per batch matrix)\n"), "\(r.stdout)")
    }
}
