import Foundation

extension Tiled {
    /// Runs `body(0)`, …, `body(count − 1)` on up to `count` threads (the caller and pool
    /// workers) and returns when all have finished. Each index is one independent block of
    /// work (a block of C, a range of elements); callers make the result independent of
    /// which thread runs which index. Every index runs with the caller's `KernelVariant.current`.
    static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 { body(0); return }
        let variant = KernelVariant.current
        WorkerPool.shared.run(count: count, threads: count) { i in KernelVariant.with(variant) { body(i) } }
    }

    /// Number of worker threads used when a caller passes `threads: 0` (= all cores).
    public static var defaultThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// The thread count a caller asked for: 0 means `defaultThreads`; never below 1. The one
    /// place a thread count is resolved.
    public static func resolveThreads(_ threads: Int) -> Int { threads <= 0 ? defaultThreads : threads }

    /// Cuts `0..<total` into at most `threads` contiguous chunks whose bounds are multiples of
    /// `grain` (except the last), and runs `body(range)` on each. Elementwise ops use it: the
    /// chunking decides who computes an element, never what it computes.
    static func parallelChunks(
        _ total: Int, threads: Int, grain: Int = 1 << 14,
        _ body: (Range<Int>) -> Void
    ) {
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
    /// Calls `body(item, worker)` for every item in `0..<count` on `min(threads, count)`
    /// workers, each taking the next unclaimed item (so uneven items balance). `worker` names
    /// the calling worker (for per-worker workspace). Items must be independent: which worker
    /// runs an item never changes what it computes. (When the pool is busy, e.g. a call from
    /// inside a job, worker 0 runs every item on the calling thread.) Items run with the
    /// caller's `KernelVariant.current`.
    static func forEachItem(_ count: Int, threads: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        let workers = min(resolveThreads(threads), count)
        if workers <= 1 {
            for item in 0..<count { body(item, 0) }
            return
        }
        let counter = ItemCounter()
        let variant = KernelVariant.current
        WorkerPool.shared.run(count: workers, threads: workers) { worker in
            KernelVariant.with(variant) {
                while true {
                    let item = counter.next()
                    if item >= count { break }
                    body(item, worker)
                }
            }
        }
    }

    /// Hands out 0, 1, 2, … to concurrent callers.
    private final class ItemCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value - 1
        }
    }
}
