import Foundation
import KernelCheckHDF5

/// Paths and helpers shared by the HDF5 tests.
enum TestSupport {
    /// Repository root: this file is `<root>/Tests/KernelCheckHDF5Tests/TestSupport.swift`.
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `tools/h5py_roundtrip.py`.
    static var roundTripScript: String { repositoryRoot.appendingPathComponent("tools/h5py_roundtrip.py").path }

    /// The committed h5py sample, `fixtures/testdata/h5py_sample.h5`.
    static var committedSample: String { repositoryRoot.appendingPathComponent("fixtures/testdata/h5py_sample.h5").path }

    /// A fresh, empty directory for one test (removed by `removeScratch`).
    static func makeScratchDirectory(_ label: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kernelcheck-hdf5-\(label)-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Removes a directory made by `makeScratchDirectory`.
    static func removeScratch(_ directory: URL) {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `python3 <arguments>` and returns its exit status and combined output.
    static func runPython(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Whether `python3` with h5py and NumPy can be run (checked once).
    static let h5pyAvailable: Bool = {
        guard let result = try? runPython(["-c", "import h5py, numpy"]) else { return false }
        return result.status == 0
    }()

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
