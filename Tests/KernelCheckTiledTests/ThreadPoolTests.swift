import Dispatch
import Testing

@testable import KernelCheckTiled

/// Runs `parallelFor(count)` with each index writing its own slot; returns the visit counts.
func visitCounts(_ count: Int, nested: Bool = false) -> [Int] {
    let slots = UnsafeMutablePointer<Int>.allocate(capacity: count)
    slots.initialize(repeating: 0, count: count)
    defer { slots.deallocate() }
    Tiled.parallelFor(count) { i in
        slots[i] += 1
        if nested {
            // A nested call finds the pool busy and runs inline; it must still cover 0..<3.
            var inner = [0, 0, 0]
            inner.withUnsafeMutableBufferPointer { inner in
                let p = inner.baseAddress!
                Tiled.parallelFor(3) { j in p[j] += 1 }
            }
            if inner != [1, 1, 1] { slots[i] += 100 }
        }
    }
    return Array(UnsafeBufferPointer(start: slots, count: count))
}

/// Carries a pointer that each concurrent caller uses only at its own index.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

@Suite("ThreadPool")
struct ThreadPoolTests {
    @Test("parallelFor runs every index exactly once, over many back-to-back jobs")
    func everyIndexOnce() {
        for call in 0..<2000 {
            let count = 1 + call % 7
            let visits = visitCounts(count)
            if visits != [Int](repeating: 1, count: count) {
                Issue.record("call \(call): visits \(visits)")
                return
            }
        }
    }

    @Test("nested parallelFor and concurrent callers still run every index exactly once")
    func nestedAndConcurrent() {
        #expect(visitCounts(4, nested: true) == [1, 1, 1, 1])
        let results = UnsafeMutablePointer<Bool>.allocate(capacity: 8)
        results.initialize(repeating: false, count: 8)
        defer { results.deallocate() }
        let shared = UncheckedSendable(results)  // each caller writes only its own slot
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            var ok = true
            for _ in 0..<200 { ok = ok && visitCounts(5) == [1, 1, 1, 1, 1] }
            shared.value[caller] = ok
        }
        #expect((0..<8).allSatisfy { results[$0] })
    }

    @Test("parallelChunks covers 0..<total with grain-aligned, disjoint ranges")
    func chunksCoverRange() {
        for (total, threads, grain) in [(0, 2, 4), (1, 2, 4), (10, 3, 4), (1000, 2, 64), (1000, 7, 1)] {
            var covered = [Int](repeating: 0, count: total)
            covered.withUnsafeMutableBufferPointer { covered in
                let p = covered.baseAddress
                Tiled.parallelChunks(total, threads: threads, grain: grain) { range in
                    #expect(range.lowerBound % grain == 0)
                    for i in range { p![i] += 1 }
                }
            }
            #expect(covered.allSatisfy { $0 == 1 }, "total \(total) threads \(threads) grain \(grain)")
        }
    }
}
