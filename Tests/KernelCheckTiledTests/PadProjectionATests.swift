import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckTiled
import Testing

func tiledPadProjectionA(_ p: PadProjectionAProblem, _ x: [Float], threads: Int = 1) -> [Float] {
    runKernel([x], outputCount: count(p.yShape)) { i, y in
        Tiled.padProjectionAForward(p, x: i[0], y: y, threads: threads)
    }
}

func tiledPadProjectionABackward(_ p: PadProjectionAProblem, _ dy: [Float], threads: Int = 1) -> [Float] {
    runKernel([dy], outputCount: count(p.xShape)) { i, dx in
        Tiled.padProjectionABackwardData(p, dy: i[0], dx: dx, threads: threads)
    }
}

@Suite("PadProjectionA")
struct PadProjectionATests {
    @Test("forward: 3 channels padded 7 before and 6 after (16 channels), 4×4 → 2×2 with stride 2")
    func forwardCIFARShortcut() {
        let p = PadProjectionAProblem(batch: 1, channels: 3, inputSize: [4, 4], stride: [2, 2], before: 7, after: 6)
        #expect(p.yShape == [1, 16, 2, 2])
        // x[0, c, h, w] = 100c + 10h + w, so y[0, 7 + c, i, j] = x[0, c, 2i, 2j] = 100c + 20i + 2j.
        var x = [Float](repeating: 0, count: 48)
        for c in 0..<3 { for h in 0..<4 { for w in 0..<4 { x[(c * 4 + h) * 4 + w] = Float(100 * c + 10 * h + w) } } }
        let y = tiledPadProjectionA(p, x)
        for co in 0..<16 {
            let plane = Array(y[(co * 4)..<(co * 4 + 4)])
            if (7..<10).contains(co) {
                let c = Float(100 * (co - 7))
                #expect(plane == [c, c + 2, c + 20, c + 22], "channel \(co)")
            } else {
                #expect(plane == [0, 0, 0, 0], "channel \(co)")
            }
        }
    }

    @Test("backward: dy's middle channels land at the strided positions, zero elsewhere")
    func backwardScatter() {
        // 1-D: c = 1, in = 5, s = 2 → out = ⌈5/2⌉ = 3, before 1, after 0.
        let p = PadProjectionAProblem(batch: 1, channels: 1, inputSize: [5], stride: [2], before: 1, after: 0)
        // dy channel 0 is padding (ignored), channel 1 = [1, 2, 3] → dx = [1, 0, 2, 0, 3].
        let dx = tiledPadProjectionABackward(p, [9, 9, 9, 1, 2, 3])
        #expect(dx == [1, 0, 2, 0, 3])
    }

    @Test(
        "adjoint identity ⟨P x, dy⟩ = ⟨x, Pᵀ dy⟩ in 1-D, 2-D and 3-D with odd sizes",
        arguments: [([7], [3]), ([5, 6], [2, 3]), ([3, 5, 4], [2, 2, 3])])
    func adjointIdentity(size: [Int], stride: [Int]) {
        let p = PadProjectionAProblem(batch: 2, channels: 3, inputSize: size, stride: stride, before: 2, after: 1)
        let x = TestData.integers(count(p.xShape), seed: 6, stream: "x")
        let dy = TestData.integers(count(p.yShape), seed: 6, stream: "dy")
        let y = tiledPadProjectionA(p, x), dx = tiledPadProjectionABackward(p, dy)
        #expect(!y.contains(sentinel) && !dx.contains(sentinel), "every output cell is written")
        #expect(dot(y, dy) == dot(x, dx))
        #expect(dot(y, dy) != 0)
    }

    @Test("large tensors are bit-identical for 1 and 2 threads")
    func deterministicAcrossThreads() {
        let p = PadProjectionAProblem(
            batch: 2, channels: 16, inputSize: [32, 32], stride: [2, 2], before: 8, after: 8)
        let x = TestData.uniform(count(p.xShape), seed: 2, stream: "x")
        let dy = TestData.uniform(count(p.yShape), seed: 2, stream: "dy")
        #expect(tiledPadProjectionA(p, x, threads: 2) == tiledPadProjectionA(p, x, threads: 1))
        #expect(tiledPadProjectionABackward(p, dy, threads: 2) == tiledPadProjectionABackward(p, dy, threads: 1))
    }
}
