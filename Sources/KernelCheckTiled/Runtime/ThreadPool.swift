import Foundation
import Synchronization

/// A fork-join pool of persistent worker threads for `Tiled.parallelFor`.
///
/// Why not `DispatchQueue.concurrentPerform`: on Linux its workers take hundreds of
/// microseconds to wake, so a job of two 300 µs halves ran serially on the calling thread.
/// These workers spin briefly on an atomic generation counter after each job (so
/// back-to-back calls start within microseconds), then sleep on a condition variable.
///
/// One job runs at a time. A caller that finds the pool busy (another thread's job, or a
/// nested call from inside a job) runs its indices itself, one after another; callers make
/// every index's result independent of the thread that runs it, so this changes timing only.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Checks of the generation counter before a worker goes to sleep (≈ 50–100 µs).
    private let spinChecks = 100_000

    /// Serializes jobs; `tryLock` failure means "busy: run inline".
    private let submit = NSLock()
    /// Guards the job fields and sleeping/waking (workers wait for a job, the caller for the end).
    private let condition = NSCondition()
    /// `generation << 32 | next index`: workers claim an index with a compare-and-swap that
    /// also checks the generation, so a worker that is late for a finished job can never
    /// claim an index of the next one and run it with the old closure.
    private let ticket = Atomic<Int>(0)
    /// Indices of the current job that have finished.
    private let finished = Atomic<Int>(0)
    /// The current job, its index count and generation (written under `condition`).
    private var job: ((Int) -> Void)?
    private var count = 0
    private var generation = 0
    /// Workers holding a reference to the current job (written under `condition`). The
    /// caller waits for 0 before returning: the job is a non-escaping closure that must not
    /// outlive the call.
    private var attached = 0
    /// Workers started so far (they live for the whole process).
    private var workers = 0

    /// Runs `body(0..<count)` on the calling thread and up to `threads − 1` workers.
    func run(count: Int, threads: Int, _ body: (Int) -> Void) {
        guard count > 1 && threads > 1 && count < 1 << 31 && submit.try() else {
            for i in 0..<count { body(i) }
            return
        }
        defer { submit.unlock() }
        startWorkers(upTo: min(threads, count) - 1)
        withoutActuallyEscaping(body) { body in
            condition.lock()
            generation += 1
            let current = generation
            job = body
            self.count = count
            finished.store(0, ordering: .relaxed)
            ticket.store(current << 32, ordering: .releasing)
            condition.broadcast()
            condition.unlock()

            work(body, generation: current, count: count)

            // Wait for indices claimed by workers: spin first, then sleep.
            var spins = 0
            while finished.load(ordering: .acquiring) < count {
                spins += 1
                if spins > spinChecks {
                    condition.lock()
                    while finished.load(ordering: .acquiring) < count { condition.wait() }
                    condition.unlock()
                }
            }
            condition.lock()
            job = nil
            while attached > 0 { condition.wait() }
            condition.unlock()
        }
    }

    /// Claims and runs indices of job `generation` until none are left (or it is over).
    private func work(_ job: (Int) -> Void, generation: Int, count: Int) {
        while true {
            let value = ticket.load(ordering: .acquiring)
            let index = value & 0xFFFF_FFFF
            guard value >> 32 == generation && index < count else { return }
            guard
                ticket.compareExchange(
                    expected: value, desired: value + 1,
                    ordering: .acquiringAndReleasing
                ).exchanged
            else { continue }
            job(index)
            if finished.add(1, ordering: .acquiringAndReleasing).newValue == count {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    private func startWorkers(upTo wanted: Int) {
        while workers < wanted {
            workers += 1
            let thread = Thread { [self] in workerLoop() }
            thread.name = "KernelCheckTiled worker \(workers)"
            thread.start()
        }
    }

    private func workerLoop() {
        var seen = 0
        while true {
            // Wait for a new generation: spin first, then sleep.
            var spins = 0
            while ticket.load(ordering: .acquiring) >> 32 == seen {
                spins += 1
                if spins > spinChecks {
                    condition.lock()
                    while ticket.load(ordering: .acquiring) >> 32 == seen { condition.wait() }
                    condition.unlock()
                }
            }
            seen = attachAndWork()
            condition.lock()
            attached -= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Takes the current job (counted in `attached`), works on it, and returns its
    /// generation. The job reference is released when this function returns, before the
    /// caller of `workerLoop` detaches.
    @inline(never)
    private func attachAndWork() -> Int {
        condition.lock()
        let (job, generation, count) = (self.job, self.generation, self.count)
        attached += 1
        condition.unlock()
        if let job { work(job, generation: generation, count: count) }
        return generation
    }
}
