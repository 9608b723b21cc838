/// Errors raised when building or reshaping a tensor. Every case names the offending shape.
public enum TensorError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A dimension was negative (only `-1` is allowed, and only as a reshape wildcard).
    case negativeDimension(shape: [Int])
    /// The shape's element count does not fit in memory arithmetic (`Int` overflow).
    case elementCountOverflow(shape: [Int])
    /// Storage length does not equal the product of the shape.
    case storageMismatch(shape: [Int], storageCount: Int)
    /// `reshape` received more than one `-1`.
    case multipleInferredDimensions(target: [Int])
    /// `reshape` could not infer `-1` (or match sizes) because the element counts differ.
    case reshapeSizeMismatch(from: [Int], to: [Int])
    /// A layout conversion needs at least `N, C` plus one spatial dimension.
    case rankTooSmallForLayout(shape: [Int], minimum: Int)

    public var description: String {
        switch self {
        case .negativeDimension(let s):
            return "shape \(Shape.format(s)) has a negative dimension"
        case .elementCountOverflow(let s):
            return "shape \(Shape.format(s)) has more elements than Int can count"
        case .storageMismatch(let s, let n):
            return "shape \(Shape.format(s)) needs \(Shape.elementCount(s) ?? -1) elements, storage has \(n)"
        case .multipleInferredDimensions(let t):
            return "reshape target \(Shape.format(t)) has more than one -1; at most one dimension can be inferred"
        case .reshapeSizeMismatch(let f, let t):
            return "cannot reshape \(Shape.format(f)) (\(Shape.elementCount(f) ?? -1) elements) to \(Shape.format(t))"
        case .rankTooSmallForLayout(let s, let m):
            return "layout conversion needs rank ≥ \(m), got shape \(Shape.format(s))"
        }
    }
}
