// Re-exported for every file of this target: the HDF5 tests call `TestSupport` (scratch
// directories, the repository root, `python3`) without importing it themselves.
@_exported import KernelCheckTestSupport

/// The h5py side of the HDF5 tests: the committed sample, the round-trip script and the value
/// pattern both sides write and check.
extension TestSupport {
    /// `tools/h5py_roundtrip.py`.
    static var roundTripScript: String { path("tools/h5py_roundtrip.py") }

    /// The committed h5py sample, `fixtures/testdata/h5py_sample.h5`.
    static var committedSample: String { fixture("testdata/h5py_sample.h5") }

    /// The value pattern shared with `tools/h5py_roundtrip.py check`:
    /// `value[i₀, …, i_{r−1}] = Σₖ iₖ·10^(r−1−k) + offset`, so each index is one decimal digit
    /// and a transposed or shifted element changes the value. Row-major, computed here with an
    /// odometer over the multi-index (independent of the code under test).
    static func pattern(shape: [Int], offset: Double) -> [Double] {
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        var values: [Double] = []
        let count = shape.reduce(1, *)
        for _ in 0..<count {
            var digits = 0
            for k in 0..<rank { digits = digits * 10 + index[k] }
            values.append(Double(digits) + offset)
            // Advance the odometer: last index fastest (row-major).
            var k = rank - 1
            while k >= 0 {
                index[k] += 1
                if index[k] < shape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
        return values
    }

    /// Extents of the pattern datasets: rank r uses the first r of these.
    static let patternExtents = [2, 3, 4, 5, 3]

    /// The pattern value of the last element (every index at its maximum) for ranks 0…5,
    /// worked out by hand from `patternExtents` (maxima 1, 2, 3, 4, 2): "", "1", "12",
    /// "123", "1234", "12342".
    static let lastPatternDigits: [Double] = [0, 1, 12, 123, 1234, 12342]
}
