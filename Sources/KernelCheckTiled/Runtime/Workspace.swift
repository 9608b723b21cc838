import Foundation

extension Tiled {
    /// `count` uninitialized floats starting on a 64-byte cache line (free with `deallocate()`).
    /// Kernels load 16 floats at a time from workspaces laid out in whole vectors; malloc
    /// only promises 16 bytes, and off a line boundary every such load straddles two lines.
    static func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: 4 * max(1, count), alignment: 64)
            .bindMemory(to: Float.self, capacity: max(1, count))
    }

    /// Runs `body` with `count` uninitialized floats on the stack, starting on a cache line:
    /// scratch tiles take whole-vector stores and loads, which with the default 16-byte
    /// alignment would straddle lines or not depending on the stack depth (so on the size of
    /// the process's arguments and environment).
    static func withScratchFloats<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 4 * max(1, count), alignment: 64) { raw in
            body(raw.baseAddress!.bindMemory(to: Float.self, capacity: max(1, count)))
        }
    }
}

/// Reusable 64-byte-aligned scratch buffers (GEMM packing blocks), so that repeated calls do
/// not map fresh pages each time (page faults cost as much as a small GEMM).
/// A buffer is owned by one thread between `acquire` and `release`.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()

    /// Buffers kept for reuse; beyond this, released buffers are freed.
    private let keep = 8
    private let lock = NSLock()
    private var free: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []

    /// A buffer of at least `bytes` bytes (the largest idle one that fits, else a new one).
    func acquire(bytes: Int) -> (pointer: UnsafeMutableRawPointer, bytes: Int) {
        lock.lock()
        if let i = free.indices.last(where: { free[$0].bytes >= bytes }) {
            let buffer = free.remove(at: i)
            lock.unlock()
            return buffer
        }
        lock.unlock()
        return (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64), bytes)
    }

    func release(_ buffer: (pointer: UnsafeMutableRawPointer, bytes: Int)) {
        lock.lock()
        free.append(buffer)
        free.sort { $0.bytes < $1.bytes }
        let evicted = free.count > keep ? free.removeFirst() : nil
        lock.unlock()
        evicted?.pointer.deallocate()
    }

    /// Runs `body` with a scratch buffer of `count` floats.
    func withFloats<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let buffer = acquire(bytes: max(64, count * MemoryLayout<Float>.stride))
        defer { release(buffer) }
        return body(buffer.pointer.bindMemory(to: Float.self, capacity: count))
    }
}
