/// Central finite differences in Float64, the gradient check of last resort for every
/// backward pass: `∂f/∂xᵢ ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h`, truncation error O(h²).
public enum FiniteDifference {
    /// The central difference of `f` at `x` along coordinate `index`.
    public static func central(
        at x: Tensor<Double>, index: Int, step h: Double = 1e-6, _ f: (Tensor<Double>) -> Double
    ) -> Double {
        var plus = x, minus = x
        plus.storage[index] += h
        minus.storage[index] -= h
        return (f(plus) - f(minus)) / (2 * h)
    }

    /// `count` distinct coordinates of a tensor with `elements` entries, chosen with `rng`
    /// (all of them when there are no more than `count`), in increasing order.
    public static func sampleIndices(elements: Int, count: Int, rng: inout SeededRNG) -> [Int] {
        guard elements > count else { return Array(0..<elements) }
        var chosen = Set<Int>()
        while chosen.count < count { chosen.insert(rng.nextInt(in: 0...(elements - 1))) }
        return chosen.sorted()
    }

    /// Relative error `|a − b| / max(|a|, |b|, floor)`, the figure finite-difference checks report.
    public static func relativeError(_ a: Double, _ b: Double, floor: Double = 1e-3) -> Double {
        Swift.abs(a - b) / Swift.max(Swift.abs(a), Swift.abs(b), floor)
    }
}
