import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// The reference tests that hold for both ops (adjoint identities, finite differences, bias,
/// groups, empty dimensions) draw and build their problems through `ConvOp`.
extension ConvOp {
    /// The next random problem of this op drawn from `rng` (`TestProblems`) that `accept` takes.
    func random(
        _ rng: inout SeededRNG, where accept: (any ReferenceConvolution) -> Bool = { _ in true }
    )
        -> any ReferenceConvolution
    {
        switch self {
        case .conv: return TestProblems.conv(&rng) { accept($0) }
        case .convTranspose: return TestProblems.convTranspose(&rng) { accept($0) }
        }
    }

    /// A problem of this op with the given geometry, no output padding and no bias.
    func problem(
        batch: Int, inChannels: Int, outChannels: Int, groups: Int = 1, inputSize: [Int], kernel: [Int],
        stride: [Int], padding: Padding
    ) -> any ReferenceConvolution {
        switch self {
        case .conv:
            return ConvProblem(
                batch: batch, inChannels: inChannels, outChannels: outChannels, groups: groups, inputSize: inputSize,
                kernel: kernel, stride: stride, padding: padding, hasBias: false)
        case .convTranspose:
            return ConvTransposeProblem(
                batch: batch, inChannels: inChannels, outChannels: outChannels, groups: groups,
                inputSize: inputSize, kernel: kernel, stride: stride, padding: padding, hasBias: false)
        }
    }
}

extension ConvOp {
    /// Checks the forward pass of a one-image, one-channel problem of this op (no bias) under
    /// `same` (SAME_UPPER) and `same_lower` against hand-derived outputs: the two differ only
    /// in which end gets the odd padding (or crop).
    func expectSameAndSameLower(
        inputSize: [Int], kernel: [Int], stride: [Int], x: Tensor<Double>, w: Tensor<Double>,
        same: Tensor<Double>, sameLower: Tensor<Double>, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (padding, expected) in [(Padding.same, same), (.sameLower, sameLower)] {
            let p = problem(
                batch: 1, inChannels: 1, outChannels: 1, inputSize: inputSize, kernel: kernel, stride: stride,
                padding: padding)
            #expect(p.forward(x: x, w: w) == expected, "\(p)", sourceLocation: sourceLocation)
        }
    }
}

/// The reference entry points of one op, so that a test written once runs on both.
protocol ReferenceConvolution: ConvolutionGeometry {
    var hasBias: Bool { get set }
    var padBegin: [Int] { get }
    var padEnd: [Int] { get }
    func forward<T>(x: Tensor<T>, w: Tensor<T>, b: Tensor<T>?) -> Tensor<Double>
    func backwardData<T>(dy: Tensor<T>, w: Tensor<T>) -> Tensor<Double>
    func backwardWeights<T>(x: Tensor<T>, dy: Tensor<T>) -> Tensor<Double>
    func backwardBias<T>(dy: Tensor<T>) -> Tensor<Double>
}

extension ReferenceConvolution {
    func forward<T>(x: Tensor<T>, w: Tensor<T>) -> Tensor<Double> { forward(x: x, w: w, b: nil) }
}

extension ConvProblem: ReferenceConvolution {
    func forward<T>(x: Tensor<T>, w: Tensor<T>, b: Tensor<T>?) -> Tensor<Double> {
        Reference.convForward(self, x: x, w: w, b: b)
    }
    func backwardData<T>(dy: Tensor<T>, w: Tensor<T>) -> Tensor<Double> {
        Reference.convBackwardData(self, dy: dy, w: w)
    }
    func backwardWeights<T>(x: Tensor<T>, dy: Tensor<T>) -> Tensor<Double> {
        Reference.convBackwardWeights(self, x: x, dy: dy)
    }
    func backwardBias<T>(dy: Tensor<T>) -> Tensor<Double> { Reference.convBackwardBias(self, dy: dy) }
}

extension ConvTransposeProblem: ReferenceConvolution {
    func forward<T>(x: Tensor<T>, w: Tensor<T>, b: Tensor<T>?) -> Tensor<Double> {
        Reference.convTransposeForward(self, x: x, w: w, b: b)
    }
    func backwardData<T>(dy: Tensor<T>, w: Tensor<T>) -> Tensor<Double> {
        Reference.convTransposeBackwardData(self, dy: dy, w: w)
    }
    func backwardWeights<T>(x: Tensor<T>, dy: Tensor<T>) -> Tensor<Double> {
        Reference.convTransposeBackwardWeights(self, x: x, dy: dy)
    }
    func backwardBias<T>(dy: Tensor<T>) -> Tensor<Double> { Reference.convTransposeBackwardBias(self, dy: dy) }
}
