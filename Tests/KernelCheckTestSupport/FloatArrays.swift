import KernelCheckCore
import Testing

// Plain Float arrays for tests that call kernels on raw pointers.

/// Seeded fills as Float arrays.
public enum TestData {
    /// `count` values of `fill` drawn from the stream `role` of `seed` (as `Fill.tensor`).
    public static func filled(_ count: Int, _ fill: Fill, seed: UInt64, role: String) -> [Float] {
        fill.tensor([count], seed: seed, role: role, as: Float.self).storage
    }

    /// Integers in [−k, k] (half of them zero): products and their sums stay exact in fp32.
    public static func integers(_ count: Int, seed: UInt64, stream: String, k: Int = 4) -> [Float] {
        filled(count, .integers(k: k, density: 0.5), seed: seed, role: stream)
    }

    /// Uniform reals in [−1, 1).
    public static func uniform(_ count: Int, seed: UInt64, stream: String) -> [Float] {
        filled(count, .uniform(low: -1, high: 1), seed: seed, role: stream)
    }
}

/// A value no kernel computes from the test inputs: marks guard regions and unwritten cells.
public let sentinel: Float = -7777.25

/// The inner product of two equally long Float arrays, in Double.
public func dot(_ x: [Float], _ y: [Float]) -> Double {
    precondition(x.count == y.count)
    var s = 0.0
    for i in x.indices { s += Double(x[i]) * Double(y[i]) }
    return s
}

/// `nil` when the arrays are equal element for element (`bitwise`: same bit patterns, else
/// `==`); otherwise a short description: how many differ and the first difference.
public func mismatch(_ actual: [Float], _ expected: [Float], bitwise: Bool = false) -> String? {
    guard actual.count == expected.count else { return "count \(actual.count) ≠ \(expected.count)" }
    var first: Int? = nil, differing = 0
    for i in actual.indices {
        let same = bitwise ? actual[i].bitPattern == expected[i].bitPattern : actual[i] == expected[i]
        if !same {
            differing += 1
            if first == nil { first = i }
        }
    }
    guard let i = first else { return nil }
    return "\(differing) of \(actual.count) differ; first at [\(i)]: got \(actual[i]), want \(expected[i])"
}

/// Element count of a shape (1 for a scalar `[]`).
public func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

/// Calls a kernel with read pointers to `inputs` and a write pointer to a fresh output of
/// `outputCount` elements filled with the sentinel (arrays are padded to one element so
/// that empty tensors still have an address); returns the output.
public func runKernel(
    _ inputs: [[Float]], outputCount: Int,
    _ kernel: ([UnsafePointer<Float>], UnsafeMutablePointer<Float>) -> Void
) -> [Float] {
    let padded = inputs.map { $0.isEmpty ? [Float(0)] : $0 }
    let storage = padded.map { array -> UnsafeMutablePointer<Float> in
        let p = UnsafeMutablePointer<Float>.allocate(capacity: array.count)
        p.initialize(from: array, count: array.count)
        return p
    }
    defer { for p in storage { p.deallocate() } }
    var output = [Float](repeating: sentinel, count: max(1, outputCount))
    output.withUnsafeMutableBufferPointer { out in
        kernel(storage.map { UnsafePointer($0) }, out.baseAddress!)
    }
    return Array(output.prefix(outputCount))
}

/// Runs `body` on an output buffer pre-filled with a sentinel, with guard elements after it,
/// and checks the guard is intact (no out-of-bounds write). Returns the output.
public func withGuardedOutput(
    _ count: Int, _ context: String,
    _ body: (UnsafeMutablePointer<Float>) -> Void
) -> [Float] {
    let guardCount = 17
    var buffer = [Float](repeating: sentinel, count: count + guardCount)
    buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    #expect(buffer[count...].allSatisfy { $0 == sentinel }, "out-of-bounds write: \(context)")
    return Array(buffer[..<count])
}

/// A valid pointer to the array's elements, also for an empty array (a kernel given an empty
/// tensor must not read it, but the API takes non-optional pointers).
public func withPointer<R>(_ a: [Float], _ body: (UnsafePointer<Float>) -> R) -> R {
    let storage = a.isEmpty ? [Float.nan] : a
    return storage.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// `withPointer` for several arrays at once: `body` gets their pointers in the same order.
public func withPointers<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>]) -> R) -> R {
    guard let first = arrays.first else { return body([]) }
    return withPointer(first) { head in withPointers(Array(arrays.dropFirst())) { body([head] + $0) } }
}

/// `withPointer` for an optional array (a layer's bias): `nil` stays `nil`.
public func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return withPointer(a) { body($0) }
}

/// Exact comparison with the first mismatch named.
public func expectEqual(
    _ got: [Float], _ want: [Double], _ context: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        got.count == want.count, "\(context): \(got.count) elements, expected \(want.count)",
        sourceLocation: sourceLocation)
    let mismatches = zip(got, want).enumerated().filter { Double($0.element.0) != $0.element.1 }
    if let first = mismatches.first {
        let message =
            "\(context): \(mismatches.count)/\(got.count) mismatched, first at \(first.offset): "
            + "got \(first.element.0), expected \(first.element.1)"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}

/// Bit-for-bit comparison of two runs.
public func expectIdentical(
    _ a: [Float], _ b: [Float], _ context: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(context): runs differ", sourceLocation: sourceLocation)
}

/// `s[c] = Σ t[n, c, o]` over images and positions of an `N × C × spatial` array (a bias
/// gradient), in Double.
public func channelSums(_ t: [Float], channels: Int, spatial: Int) -> [Double] {
    var s = [Double](repeating: 0, count: channels)
    for (i, v) in t.enumerated() { s[(i / spatial) % channels] += Double(v) }
    return s
}
