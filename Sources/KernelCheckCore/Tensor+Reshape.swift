extension Tensor {
    /// Resolves a reshape target against an element count, inferring at most one `-1`
    /// (as numpy / TensorFlow / PyTorch do): `reshape(-1, 28, 28, 1)` of a `B×784` tensor
    /// infers `B`, because `B·784 = x·28·28·1` gives `x = B`.
    public static func resolveReshape(_ target: [Int], elementCount n: Int, from: [Int]) throws(TensorError) -> [Int] {
        let wildcards = target.indices.filter { target[$0] == -1 }
        guard wildcards.count <= 1 else { throw .multipleInferredDimensions(target: target) }
        guard target.allSatisfy({ $0 >= -1 }) else { throw .negativeDimension(shape: target) }
        let known = target.filter { $0 != -1 }
        guard let knownCount = Shape.elementCount(known) else { throw .elementCountOverflow(shape: target) }
        var resolved = target
        if let w = wildcards.first {
            // 0 × anything: a -1 next to a zero dimension is ambiguous; PyTorch rejects it too.
            guard knownCount != 0, n % knownCount == 0 else { throw .reshapeSizeMismatch(from: from, to: target) }
            resolved[w] = n / knownCount
        } else if knownCount != n {
            throw .reshapeSizeMismatch(from: from, to: target)
        }
        return resolved
    }

    /// The same elements in the same order under a new shape (one `-1` may be inferred).
    public func reshaped(_ target: [Int]) throws(TensorError) -> Tensor {
        let resolved = try Self.resolveReshape(target, elementCount: count, from: shape)
        return try Tensor(shape: resolved, storage: storage)
    }
}
