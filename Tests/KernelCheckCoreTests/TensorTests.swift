import Testing

@testable import KernelCheckCore

@Suite struct TensorTests {
    @Test func rowMajorOffsets() throws {
        let t = try Tensor<Double>(shape: [2, 3, 4], storage: (0..<24).map(Double.init))
        #expect(t[1, 2, 3] == 23)
        #expect(t[1, 0, 0] == 12)
        #expect(t[0, 1, 0] == 4)
        #expect(t.strides == [12, 4, 1])
    }

    @Test func constructionErrorsAreTyped() {
        #expect(throws: TensorError.negativeDimension(shape: [2, -3])) { try Tensor<Float>(shape: [2, -3]) }
        #expect(throws: TensorError.storageMismatch(shape: [2, 2], storageCount: 3)) {
            try Tensor<Float>(shape: [2, 2], storage: [1, 2, 3])
        }
        #expect(throws: TensorError.elementCountOverflow(shape: [1 << 40, 1 << 40])) {
            try Tensor<Float>(shape: [1 << 40, 1 << 40])
        }
    }

    /// The TensorFlow tutorial's `reshape(x, [-1, 28, 28, 1])` of a `B×784` batch infers B,
    /// since `B·784 = x·28·28·1` gives `x = B`.
    @Test(arguments: [1, 3, 50])
    func reshapeInfersBatch(_ batch: Int) throws {
        let x = try Tensor<Float>(shape: [batch, 784])
        let image = try x.reshaped([-1, 28, 28, 1])
        #expect(image.shape == [batch, 28, 28, 1])
        #expect(try x.reshaped([-1]).shape == [batch * 784])
    }

    @Test func reshapeErrors() throws {
        let x = try Tensor<Float>(shape: [3, 784])
        #expect(throws: TensorError.multipleInferredDimensions(target: [-1, -1, 28])) { try x.reshaped([-1, -1, 28]) }
        #expect(throws: TensorError.reshapeSizeMismatch(from: [3, 784], to: [-1, 5])) { try x.reshaped([-1, 5]) }
        #expect(throws: TensorError.reshapeSizeMismatch(from: [3, 784], to: [3, 785])) { try x.reshaped([3, 785]) }
        #expect(throws: TensorError.negativeDimension(shape: [-2, 28])) { try x.reshaped([-2, 28]) }
    }

    @Test func reshapeKeepsElementOrder() throws {
        let x = try Tensor<Double>(shape: [2, 6], storage: (0..<12).map(Double.init))
        let y = try x.reshaped([3, -1])
        #expect(y.shape == [3, 4])
        #expect(y[2, 1] == 9)
    }

    /// NCHW → NHWC moves `x[n, c, h, w]` to `y[n, h, w, c]`.
    @Test func channelsLastMovesEachElement() throws {
        let x = try Tensor<Double>(shape: [2, 3, 4, 5], storage: (0..<120).map(Double.init))
        let y = try x.channelsLast()
        #expect(y.shape == [2, 4, 5, 3])
        for n in 0..<2 {
            for c in 0..<3 {
                for h in 0..<4 {
                    for w in 0..<5 {
                        #expect(y[n, h, w, c] == x[n, c, h, w])
                    }
                }
            }
        }
        #expect(try y.channelsFirst() == x)
    }

    @Test func layoutConversionWorksForOneAndThreeSpatialDims() throws {
        let x1 = try Tensor<Float>(shape: [2, 3, 5], storage: (0..<30).map(Float.init))
        #expect(try x1.channelsLast()[1, 4, 2] == x1[1, 2, 4])
        let x3 = try Tensor<Float>(shape: [1, 2, 2, 3, 2], storage: (0..<24).map(Float.init))
        #expect(try x3.channelsLast()[0, 1, 2, 1, 1] == x3[0, 1, 1, 2, 1])
        #expect(try x3.channelsLast().channelsFirst() == x3)
        #expect(throws: TensorError.rankTooSmallForLayout(shape: [4, 5], minimum: 3)) {
            try Tensor<Float>(shape: [4, 5]).channelsLast()
        }
    }

    @Test func memoryBudgetParsing() {
        #expect(MemoryBudget.parse("512M") == 512 << 20)
        #expect(MemoryBudget.parse("2g") == 2 << 30)
        #expect(MemoryBudget.parse("1000") == 1000)
        #expect(MemoryBudget.parse("-1") == nil)
        #expect(MemoryBudget.parse("lots") == nil)
    }

    @Test func finiteDifferenceOfAQuadratic() throws {
        // f(x) = Σ xᵢ², ∂f/∂xᵢ = 2xᵢ.
        let x = try Tensor<Double>(shape: [3], storage: [0.5, -2, 3])
        for i in 0..<3 {
            let g = FiniteDifference.central(at: x, index: i) { $0.storage.map { $0 * $0 }.reduce(0, +) }
            #expect(Swift.abs(g - 2 * x.storage[i]) < 1e-8)
        }
    }
}
