/// An output buffer with sentinel guard regions (ggml test-backend-ops style): catches
/// out-of-bounds writes and outputs a kernel never wrote.
///
/// Memory layout (Float32 elements, 64-byte aligned, so the payload starts on a cache line
/// and is aligned for SIMD):
///
///     [ guardCount × guardPattern ][ count × poisonPattern → kernel writes here ][ guardCount × guardPattern ]
///
/// - `guardPattern` (0x7FA5A5A5) is a signalling NaN with a fixed payload: a kernel that
///   computes a value can never produce it (arithmetic only yields quiet NaNs), so any
///   change of a guard element is a write out of bounds.
/// - `poisonPattern` (0xFFBADBAD) is a second, distinct signalling NaN pre-filling the
///   payload: an element that still holds it afterwards was never written
///   (`unwrittenCount`), and a kernel that accumulates into its output without
///   initializing it produces NaN.
///
/// Patterns are written and checked as raw 32-bit words, so no Float conversion can quiet
/// them. A class (the memory is freed in `deinit`); `@unchecked Sendable` because it may be
/// handed to another thread, but it must be used by one thread at a time.
public final class GuardedBuffer: @unchecked Sendable {
    /// Sentinel bit pattern of the guard regions (a signalling NaN).
    public static let guardPattern: UInt32 = 0x7FA5_A5A5
    /// Bit pattern the payload is filled with before the kernel runs (a signalling NaN).
    public static let poisonPattern: UInt32 = 0xFFBA_DBAD
    /// Default number of guard elements on each side (256 bytes).
    public static let defaultGuardCount = 64

    /// Number of payload elements.
    public let count: Int
    /// Number of guard elements on each side.
    public let guardCount: Int
    private let base: UnsafeMutableRawPointer

    /// Allocates `count` payload elements between two guard regions of `guardCount`
    /// elements (negative values are treated as 0) and fills guards and payload.
    public init(count: Int, guardCount: Int = GuardedBuffer.defaultGuardCount) {
        self.count = max(count, 0)
        self.guardCount = max(guardCount, 0)
        let total = self.count + 2 * self.guardCount
        base = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1) * 4, alignment: 64)
        base.bindMemory(to: Float.self, capacity: max(total, 1))
        reset()
    }

    deinit { base.deallocate() }

    /// The payload the kernel writes: `count` Floats between the guards. Valid while the
    /// buffer is alive; never write outside it (that is what the guards detect).
    public var payload: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: (base + guardCount * 4).assumingMemoryBound(to: Float.self), count: count)
    }

    /// The payload values (a copy).
    public var values: [Float] { Array(payload) }

    /// Refills the guards with `guardPattern` and the payload with `poisonPattern`.
    public func reset() {
        for i in 0..<(count + 2 * guardCount) {
            let inPayload = i >= guardCount && i < guardCount + count
            base.storeBytes(
                of: inPayload ? Self.poisonPattern : Self.guardPattern, toByteOffset: i * 4, as: UInt32.self)
        }
    }

    /// Copies `values` into the payload (for kernels that read their output, e.g. `y += …`);
    /// the guards are untouched. `values` must hold `count` elements (extra are ignored,
    /// missing ones stay poisoned).
    public func fill(from values: [Float]) {
        let p = payload
        for i in 0..<min(values.count, count) { p[i] = values[i] }
    }

    private func word(_ i: Int) -> UInt32 { base.load(fromByteOffset: i * 4, as: UInt32.self) }

    /// Payload elements that still hold `poisonPattern` (never written).
    public var unwrittenCount: Int {
        (0..<count).reduce(0) { $0 + (word(guardCount + $1) == Self.poisonPattern ? 1 : 0) }
    }

    /// The first payload index still holding `poisonPattern`, if any.
    public var firstUnwrittenIndex: Int? {
        (0..<count).first { word(guardCount + $0) == Self.poisonPattern }
    }

    /// The corrupted guard elements, or `nil` when both guard regions are intact.
    public func checkGuards() -> GuardViolation? {
        var before: [Int] = [], after: [Int] = []
        for j in 0..<guardCount {
            // Offsets relative to the payload: −1 is the element just before it, +0 the one
            // just past its end.
            if word(guardCount - 1 - j) != Self.guardPattern { before.append(-1 - j) }
            if word(guardCount + count + j) != Self.guardPattern { after.append(j) }
        }
        if before.isEmpty && after.isEmpty { return nil }
        func bits(_ offset: Int, beforeStart: Bool) -> UInt32 {
            beforeStart ? word(guardCount + offset) : word(guardCount + count + offset)
        }
        return GuardViolation(
            beforeStart: before, afterEnd: after,
            firstBeforeBits: before.first.map { bits($0, beforeStart: true) },
            firstAfterBits: after.first.map { bits($0, beforeStart: false) })
    }
}

/// Guard elements a kernel overwrote.
public struct GuardViolation: Error, Equatable, Sendable, CustomStringConvertible {
    /// Corrupted offsets before the payload, nearest first (−1 = the element just before).
    public var beforeStart: [Int]
    /// Corrupted offsets past the end, nearest first (+0 = the element just past the end).
    public var afterEnd: [Int]
    /// Bit pattern found at the nearest corrupted offset on each side.
    public var firstBeforeBits: UInt32?
    public var firstAfterBits: UInt32?

    /// E.g. `wrote 1 element past the end at offset +0 (found 0x3F800000)`.
    public var description: String {
        var parts: [String] = []
        if let first = beforeStart.first {
            parts.append(
                "wrote \(Self.count(beforeStart.count)) before the start, nearest at offset \(first)"
                    + (firstBeforeBits.map { " (found \(Self.hex($0)))" } ?? ""))
        }
        if let first = afterEnd.first {
            parts.append(
                "wrote \(Self.count(afterEnd.count)) past the end, nearest at offset +\(first)"
                    + (firstAfterBits.map { " (found \(Self.hex($0)))" } ?? ""))
        }
        return parts.joined(separator: "; ")
    }

    static func count(_ n: Int) -> String { n == 1 ? "1 element" : "\(n) elements" }

    static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
