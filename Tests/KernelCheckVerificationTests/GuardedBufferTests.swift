import Testing

@testable import KernelCheckVerification

@Suite("Guarded buffers")
struct GuardedBufferTests {
    @Test("Sentinel and poison are two distinct signalling NaNs")
    func patterns() {
        let guardValue = Float(bitPattern: GuardedBuffer.guardPattern)
        let poison = Float(bitPattern: GuardedBuffer.poisonPattern)
        #expect(guardValue.isSignalingNaN && poison.isSignalingNaN)
        #expect(GuardedBuffer.guardPattern != GuardedBuffer.poisonPattern)
    }

    @Test("A fresh buffer has intact guards and every element unwritten; writing all of it clears that")
    func fresh() {
        let b = GuardedBuffer(count: 10)
        #expect(b.checkGuards() == nil)
        #expect(b.unwrittenCount == 10 && b.firstUnwrittenIndex == 0)
        #expect(Int(bitPattern: b.payload.baseAddress!) % 64 == 0)
        for i in 0..<10 { b.payload[i] = Float(i) }
        #expect(b.checkGuards() == nil)
        #expect(b.unwrittenCount == 0 && b.firstUnwrittenIndex == nil)
        #expect(b.values == (0..<10).map(Float.init))
    }

    @Test("Writing one element past the end is caught at offset +0")
    func pastTheEnd() throws {
        let b = GuardedBuffer(count: 10)
        for i in 0..<10 { b.payload[i] = 1 }
        (b.payload.baseAddress! + 10).pointee = 1  // the classic off-by-one
        let v = try #require(b.checkGuards())
        #expect(v.afterEnd == [0] && v.beforeStart.isEmpty)
        #expect(v.firstAfterBits == 0x3F80_0000)
        #expect(v.description == "wrote 1 element past the end, nearest at offset +0 (found 0x3F800000)")
    }

    @Test("Writing before the start is caught at offset −1; several stray writes are all counted")
    func beforeTheStart() throws {
        let b = GuardedBuffer(count: 4, guardCount: 8)
        (b.payload.baseAddress! - 1).pointee = 0
        (b.payload.baseAddress! - 8).pointee = 2
        (b.payload.baseAddress! + 4 + 7).pointee = 3  // last guard element after the end
        let v = try #require(b.checkGuards())
        #expect(v.beforeStart == [-1, -8])
        #expect(v.afterEnd == [7])
        #expect(
            v.description.hasPrefix(
                "wrote 2 elements before the start, nearest at offset -1 (found 0x00000000); wrote 1 element past the end, nearest at offset +7"
            ))
    }

    @Test("Unwritten elements are counted; reset restores guards and poison")
    func unwritten() {
        let b = GuardedBuffer(count: 9)
        for i in stride(from: 0, to: 9, by: 2) { b.payload[i] = 0 }  // 0, 2, 4, 6, 8
        #expect(b.unwrittenCount == 4 && b.firstUnwrittenIndex == 1)
        (b.payload.baseAddress! + 9).pointee = 0
        #expect(b.checkGuards() != nil)
        b.reset()
        #expect(b.checkGuards() == nil && b.unwrittenCount == 9)
        b.fill(from: [1, 2, 3])
        #expect(b.unwrittenCount == 6 && Array(b.values.prefix(3)) == [1, 2, 3])
    }

    @Test("An empty output: any write at all lands in the guard")
    func empty() throws {
        let b = GuardedBuffer(count: 0)
        #expect(b.payload.isEmpty && b.unwrittenCount == 0 && b.checkGuards() == nil)
        b.payload.baseAddress!.pointee = 5
        #expect(try #require(b.checkGuards()).afterEnd == [0])
    }

    @Test("A NaN the kernel computes is not mistaken for the sentinel")
    func computedNaN() {
        let b = GuardedBuffer(count: 1)
        let zero = Float(b.payload.count - 1)  // 0, not known at compile time
        (b.payload.baseAddress! + 1).pointee = zero / zero  // a quiet NaN
        #expect(b.checkGuards()?.afterEnd == [0])
    }
}
