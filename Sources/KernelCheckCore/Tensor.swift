/// A dense, contiguous, row-major tensor of `Float` or `Double`.
///
/// `Tensor` is a value type: copies share storage until one of them is mutated (the
/// underlying `Array` is copy-on-write). Element `(i₀, …, i_{r−1})` lives at offset
/// `Σ iₖ · strideₖ` with `strideₖ = ∏_{j>k} shape[j]`.
public struct Tensor<Scalar: BinaryFloatingPoint & Sendable>: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var storage: [Scalar]

    /// A tensor of the given shape with every element equal to `value`.
    public init(shape: [Int], repeating value: Scalar = 0) throws(TensorError) {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .negativeDimension(shape: shape) }
        guard let n = Shape.elementCount(shape) else { throw .elementCountOverflow(shape: shape) }
        self.shape = shape
        self.storage = [Scalar](repeating: value, count: n)
    }

    /// Wraps existing row-major storage; its length must equal the shape's element count.
    public init(shape: [Int], storage: [Scalar]) throws(TensorError) {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .negativeDimension(shape: shape) }
        guard let n = Shape.elementCount(shape) else { throw .elementCountOverflow(shape: shape) }
        guard n == storage.count else { throw .storageMismatch(shape: shape, storageCount: storage.count) }
        self.shape = shape
        self.storage = storage
    }

    /// Non-throwing initializer for shapes already validated (by a problem descriptor).
    /// Traps on an invalid shape, which would be a bug in the caller, not bad user input.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "validated shape expected")
        self.shape = shape
        self.storage = [Scalar](repeating: 0, count: Shape.elementCount(shape)!)
    }

    public var rank: Int { shape.count }
    public var count: Int { storage.count }
    public var strides: [Int] { Shape.strides(shape) }

    /// Row-major offset of a multi-index.
    @inlinable
    public func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) ≠ tensor rank \(shape.count)")
        var off = 0
        for k in 0..<index.count {
            precondition(index[k] >= 0 && index[k] < shape[k], "index \(index) out of bounds for \(shape)")
            off = off * shape[k] + index[k]
        }
        return off
    }

    public subscript(_ index: Int...) -> Scalar {
        get { storage[offset(index)] }
        set { storage[offset(index)] = newValue }
    }

    public subscript(index index: [Int]) -> Scalar {
        get { storage[offset(index)] }
        set { storage[offset(index)] = newValue }
    }

    /// The same values converted to another scalar type (rounding to nearest).
    public func converted<Other: BinaryFloatingPoint & Sendable>(to: Other.Type = Other.self) -> Tensor<Other> {
        try! Tensor<Other>(shape: shape, storage: storage.map { Other($0) })
    }

    /// Elementwise map keeping the shape.
    public func map(_ f: (Scalar) -> Scalar) -> Tensor<Scalar> {
        try! Tensor(shape: shape, storage: storage.map(f))
    }

    /// Elementwise absolute value; the reference uses `op(|A|, |B|)` for error bounds.
    public var magnitude: Tensor<Scalar> { map { Swift.abs($0) } }

    /// `true` when any element is NaN or ±∞.
    public var hasNonFinite: Bool { storage.contains { !$0.isFinite } }

    /// Inner product `⟨self, other⟩` accumulated in Double (shapes must match in count).
    public func dot<Other: BinaryFloatingPoint & Sendable>(_ other: Tensor<Other>) -> Double {
        precondition(count == other.count, "dot of \(shape) and \(other.shape)")
        var s = 0.0
        for i in 0..<count { s += Double(storage[i]) * Double(other.storage[i]) }
        return s
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = storage.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor<\(Scalar.self)>(\(Shape.format(shape)): [\(head)\(count > 8 ? ", …" : "")])"
    }
}
