import Foundation

extension Tiled {
    /// Runs `body(0)`, …, `body(count − 1)` on up to `count` threads (the caller and pool
    /// workers) and returns when all have finished. Each index is one independent block of
    /// work (a block of C, a range of elements); callers make the result independent of
    /// which thread runs which index.
    static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 { body(0); return }
        WorkerPool.shared.run(count: count, threads: count, body)
    }

    /// The thread count a caller asked for: 0 means `defaultThreads`; never below 1.
    static func resolveThreads(_ threads: Int) -> Int { threads <= 0 ? defaultThreads : threads }

    /// Cuts `0..<total` into at most `threads` contiguous chunks whose bounds are multiples of
    /// `grain` (except the last), and runs `body(range)` on each. Elementwise ops use it: the
    /// chunking decides who computes an element, never what it computes.
    static func parallelChunks(_ total: Int, threads: Int, grain: Int = 1 << 14,
                               _ body: (Range<Int>) -> Void) {
        guard total > 0 else { return }
        let blocks = (total + grain - 1) / grain
        let parts = max(1, min(resolveThreads(threads), blocks))
        parallelFor(parts) { part in
            let lo = min(total, part * blocks / parts * grain)
            let hi = min(total, (part + 1) * blocks / parts * grain)
            if lo < hi { body(lo..<hi) }
        }
    }
}

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
