import KernelCheckCore

extension ScalarType {
    /// `x` rounded once, to nearest with ties to even, to this type, and returned as the Float
    /// that holds that value: what a kernel that keeps its sum exact (the reference's Float64
    /// result) stores. Rounding to Float first and then to this type could round twice (a
    /// Float that lands on a tie of the narrow type that `x` was not on).
    ///
    /// As `rounded(_: Float)`: scale by a power of two to the integer grid of `x`'s binade (or
    /// of the subnormal range), round there, scale back — each step exact in Double. Beyond
    /// the largest finite value the result is ±Inf (NaN for `f8e4m3`).
    public func roundedOnce(_ x: Double) -> Float {
        if self == .f32 || !x.isFinite || x == 0 { return rounded(Float(x)) }
        let exponent = Swift.max(Int(x.exponent), minimumNormalExponent)
        let quantum = Double(sign: .plus, exponent: exponent - significandBits + 1, significand: 1)
        let r = (x / quantum).rounded(.toNearestOrEven) * quantum
        if Swift.abs(r) > largestFinite { return hasInfinity ? (r < 0 ? -.infinity : .infinity) : .nan }
        return Float(r)
    }
}
