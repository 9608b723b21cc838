import KernelCheckCore

// Tensors for the tests: literals, seeded fills, channel slices.

/// A Float64 tensor from a shape and row-major values written out in a test.
public func tensor(_ shape: [Int], _ values: [Double]) throws -> Tensor<Double> {
    try Tensor(shape: shape, storage: values)
}

/// benchdnn-style exact fill: integers in [−3, 3], density 0.7, so every product sum in the
/// tests' small problems is an exactly representable integer, in Double and in Float, whatever
/// the accumulation order.
public let exactFill = Fill.integers(k: 3, density: 0.7)

/// Real fill for finite differences and bit-identity checks: uniform in [−1, 1).
public let realFill = Fill.uniform(low: -1, high: 1)

/// A seeded random tensor (`realFill` unless told otherwise).
public func randomTensor(_ shape: [Int], seed: UInt64, role: String, fill: Fill = realFill) -> Tensor<Double> {
    fill.tensor(shape, seed: seed, role: role)
}

/// A seeded `exactFill` tensor, for exact adjoint identities.
public func integerTensor(_ shape: [Int], seed: UInt64, role: String) -> Tensor<Double> {
    exactFill.tensor(shape, seed: seed, role: role)
}

/// The sub-tensor `t[…, range, …]` along `axis` (axis 1 of activations, axis 0 of weights).
public func slice(_ t: Tensor<Double>, axis: Int, _ range: Range<Int>) -> Tensor<Double> {
    let outer = t.shape[..<axis].reduce(1, *), inner = t.shape[(axis + 1)...].reduce(1, *)
    var values: [Double] = []
    for o in 0..<outer {
        for c in range {
            let start = (o * t.shape[axis] + c) * inner
            values.append(contentsOf: t.storage[start..<(start + inner)])
        }
    }
    var shape = t.shape
    shape[axis] = range.count
    return try! Tensor(shape: shape, storage: values)
}

/// Concatenation along `axis` (the inverse of slicing consecutive ranges).
public func concatenate(_ parts: [Tensor<Double>], axis: Int) -> Tensor<Double> {
    let first = parts[0]
    let outer = first.shape[..<axis].reduce(1, *), inner = first.shape[(axis + 1)...].reduce(1, *)
    var values: [Double] = []
    for o in 0..<outer {
        for part in parts {
            let block = part.shape[axis] * inner
            values.append(contentsOf: part.storage[(o * block)..<((o + 1) * block)])
        }
    }
    var shape = first.shape
    shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
    return try! Tensor(shape: shape, storage: values)
}
