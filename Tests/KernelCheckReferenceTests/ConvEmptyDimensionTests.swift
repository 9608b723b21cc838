import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// Convolution and transposed convolution with an empty batch or no channels on one side, in
/// every direction. Each row gives a problem and, worked out by hand, its x, w and y shapes.
@Suite struct ConvEmptyDimensionTests {
    /// Batch 0: y and dx have no elements, dw is zero (nothing to sum over) and db is zero
    /// per channel.
    @Test(arguments: [
        (
            ConvProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [4, 4], kernel: [3, 3], hasBias: true)
                as any ReferenceConvolution, [0, 2, 4, 4], [3, 2, 3, 3], [0, 3, 2, 2]
        ),
        (
            ConvTransposeProblem(
                batch: 0, inChannels: 2, outChannels: 3, inputSize: [2, 2], kernel: [3, 3], stride: [2, 2],
                hasBias: true), [0, 2, 2, 2], [2, 3, 3, 3], [0, 3, 5, 5]
        ),
    ])
    func emptyBatch(problem: any ReferenceConvolution, xShape: [Int], wShape: [Int], yShape: [Int]) {
        let x = Tensor<Double>(zeros: xShape), w = Tensor<Double>(zeros: wShape), dy = Tensor<Double>(zeros: yShape)
        let y = problem.forward(x: x, w: w)
        #expect(y.shape == yShape && y.count == 0)
        let dx = problem.backwardData(dy: dy, w: w)
        #expect(dx.shape == xShape && dx.count == 0)
        #expect(problem.backwardWeights(x: x, dy: dy) == Tensor<Double>(zeros: wShape))
        #expect(problem.backwardBias(dy: dy) == Tensor<Double>(zeros: [3]))
    }

    /// No output channels: y, dw and db are empty, and dx = 0 of the input's shape (it
    /// receives no products).
    @Test(arguments: [
        (
            ConvProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [4], kernel: [3], hasBias: true)
                as any ReferenceConvolution, [2, 2, 4], [0, 2, 3], [2, 0, 2]
        ),
        (
            ConvTransposeProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [2], kernel: [2], hasBias: true),
            [2, 2, 2], [2, 0, 2], [2, 0, 3]
        ),
    ])
    func noOutputChannels(problem: any ReferenceConvolution, xShape: [Int], wShape: [Int], yShape: [Int]) {
        let x = Tensor<Double>(zeros: xShape), w = Tensor<Double>(zeros: wShape), dy = Tensor<Double>(zeros: yShape)
        let y = problem.forward(x: x, w: w)
        #expect(y.shape == yShape && y.count == 0)
        #expect(problem.backwardData(dy: dy, w: w) == Tensor<Double>(zeros: xShape))
        let dw = problem.backwardWeights(x: x, dy: dy)
        #expect(dw.shape == wShape && dw.count == 0)
        #expect(problem.backwardBias(dy: dy).shape == [0])
    }

    /// No input channels: y is zero, or just the bias (each of the 2·3 output planes of
    /// `plane` elements holds its channel's bias and nothing else: 2×2 and 2 for the
    /// convolutions, out = (2−1)·1 + 1 + 1 = 3 for the transposed one); dx and dw are empty.
    @Test(arguments: [
        (
            ConvProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [4, 4], kernel: [3, 3], hasBias: true)
                as any ReferenceConvolution, [2, 0, 4, 4], [3, 0, 3, 3], [2, 3, 2, 2], 4
        ),
        (
            ConvProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [4], kernel: [3], hasBias: true),
            [2, 0, 4], [3, 0, 3], [2, 3, 2], 2
        ),
        (
            ConvTransposeProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [2], kernel: [2], hasBias: true),
            [2, 0, 2], [0, 3, 2], [2, 3, 3], 3
        ),
    ])
    func noInputChannels(
        problem: any ReferenceConvolution, xShape: [Int], wShape: [Int], yShape: [Int], plane: Int
    ) throws {
        let x = Tensor<Double>(zeros: xShape), w = Tensor<Double>(zeros: wShape)
        let y = problem.forward(x: x, w: w, b: try tensor([3], [1, 2, 3]))
        #expect(y.shape == yShape)
        #expect(y.storage == (0..<2).flatMap { _ in [1.0, 2, 3].flatMap { Array(repeating: $0, count: plane) } })
        #expect(problem.forward(x: x, w: w) == Tensor<Double>(zeros: yShape))
        let dy = try Tensor<Double>(shape: yShape, repeating: 1)
        let dx = problem.backwardData(dy: dy, w: w), dw = problem.backwardWeights(x: x, dy: dy)
        #expect(dx.shape == xShape && dx.count == 0)
        #expect(dw.shape == wShape && dw.count == 0)
    }
}
