import KernelCheckCore

// Inputs in a narrow storage type (bf16, f16, fp8) reach the kernels as their bit patterns
// and are widened to float32 where the kernel first touches them: the GEMM while packing its
// panels, the convolution's direct paths while copying their padded buffers and packing their
// panels, its other paths once up front (docs/tiled-convolution.md). Every value of these
// types is a float32 value, so widening is exact and the float32 kernels then compute the
// same sums they would compute on the widened tensor.

extension Tiled {
    /// One input tensor of a kernel: float32 values, or the little-endian bit patterns of a
    /// narrower `ScalarType` (`type.byteWidth` bytes per element, row-major).
    public struct Input: @unchecked Sendable {
        /// The first element.
        public let raw: UnsafeRawPointer
        /// The type of every element.
        public let type: ScalarType

        /// Float32 values.
        public init(_ values: UnsafePointer<Float>) {
            raw = UnsafeRawPointer(values)
            type = .f32
        }

        /// Stored bit patterns of `type` (f32 patterns are float32 values).
        public init(bits: UnsafeRawPointer, type: ScalarType) {
            raw = bits
            self.type = type
        }

        /// The values as float32; only for a float32 input.
        var floats: UnsafePointer<Float> { raw.assumingMemoryBound(to: Float.self) }

        /// The input starting `elements` elements further on.
        @inline(__always)
        func advanced(by elements: Int) -> Input {
            Input(bits: raw + elements * type.byteWidth, type: type)
        }
    }

    /// `dst[i] = value of element i of src` for `i < count`: bf16 is the high half of a
    /// float32 (a 16-bit shift), f16 widens through `Float16` (F16C on x86-64, one
    /// instruction per 16 lanes), fp8 through its 256-entry table. Exact for every pattern.
    static func widen(_ src: Input, count: Int, into dst: UnsafeMutablePointer<Float>) {
        guard count > 0 else { return }
        switch src.type {
        case .f32: dst.update(from: src.floats, count: count)
        case .bf16:
            let s = src.raw.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { dst[i] = Float(bitPattern: UInt32(s[i]) << 16) }
        case .f16:
            let s = src.raw.assumingMemoryBound(to: Float16.self)
            for i in 0..<count { dst[i] = Float(s[i]) }
        case .f8e4m3, .f8e5m2:
            let s = src.raw.assumingMemoryBound(to: UInt8.self)
            let table = src.type == .f8e4m3 ? Float8Table.e4m3 : Float8Table.e5m2
            table.withUnsafeBufferPointer { t in
                for i in 0..<count { dst[i] = t[Int(s[i])] }
            }
        }
    }

    /// Runs `body` with `input` as float32 values: a float32 input as it is, a narrow one
    /// widened into a temporary buffer (`count` elements, in parallel chunks). `nil` stays nil.
    static func withFloats<R>(
        _ input: Input?, count: Int, threads: Int, _ body: (UnsafePointer<Float>?) -> R
    ) -> R {
        guard let input else { return body(nil) }
        if input.type == .f32 { return body(input.floats) }
        let buffer = allocateFloats(count)
        defer { buffer.deallocate() }
        let t = count < 1 << 16 ? 1 : threads
        parallelChunks(count, threads: t) { range in
            widen(input.advanced(by: range.lowerBound), count: range.count, into: buffer + range.lowerBound)
        }
        return body(UnsafePointer(buffer))
    }

    /// Rounds `y[0 ..< count]` in place to the nearest value of `type`, ties to even (the one
    /// rounding of a float32 sum to the output type). Overflow gives ±Inf (NaN for f8e4m3);
    /// NaN stays NaN. Nothing to do for f32.
    ///
    /// bf16: adding `0x7FFF + lsb` to the float32 pattern carries into bit 16 exactly when the
    /// low 16 bits exceed half an ulp, or equal it with an odd lsb (RNE); masking the low half
    /// then truncates (a carry out of the largest finite value yields the Inf pattern). f16:
    /// `Float16(x)` is IEEE RNE (F16C `vcvtps2ph`). fp8: `Float8Rounding` (the same carry trick,
    /// plus a magic-number addition in the subnormal range).
    public static func roundOutput(_ y: UnsafeMutablePointer<Float>, count: Int, to type: ScalarType, threads: Int) {
        guard type != .f32 && count > 0 else { return }
        let t = count < 1 << 16 ? 1 : threads
        parallelChunks(count, threads: t) { range in
            let p = y + range.lowerBound, n = range.count
            switch type {
            case .f32: break
            case .bf16:
                let bits = UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt32.self)
                for i in 0..<n {
                    let b = bits[i]
                    let rounded = (b &+ 0x7FFF &+ ((b >> 16) & 1)) & 0xFFFF_0000
                    // A NaN becomes a quiet NaN (its payload may sit in the low half, which is cut).
                    bits[i] = b & 0x7FFF_FFFF > 0x7F80_0000 ? (b | 0x0040_0000) & 0xFFFF_0000 : rounded
                }
            case .f16:
                for i in 0..<n { p[i] = Float(Float16(p[i])) }
            case .f8e4m3, .f8e5m2:
                let format = Float8Rounding(type)
                for i in 0..<n { p[i] = format.rounded(p[i]) }
            }
        }
    }
}

/// Round-to-nearest-even of a float32 to an fp8 type, branch-free (vectorizable), the same
/// results as `ScalarType.rounded`:
/// - normal range: the bf16 carry trick at the fp8 mantissa width (`shift = 23 − m` bits are
///   cut: add `2^(shift−1) − 1 + lsb`, mask);
/// - below the smallest normal `2^e_min`, where the spacing is the fixed `2^(e_min − m)`: add
///   and subtract `2^(e_min − m + 23)`, whose float32 spacing is exactly that, so the
///   hardware's RNE addition rounds (on the magnitude, the sign put back after);
/// - beyond the largest finite value: Inf for f8e5m2, NaN for f8e4m3; NaN stays NaN.
struct Float8Rounding {
    let shift: UInt32
    let smallestNormal: Float
    let magic: Float
    let largest: Float
    let overflow: Float

    init(_ type: ScalarType) {
        let m = type.significandBits - 1
        shift = UInt32(23 - m)
        smallestNormal = Float(sign: .plus, exponent: type.minimumNormalExponent, significand: 1)
        magic = Float(sign: .plus, exponent: type.minimumNormalExponent - m + 23, significand: 1)
        largest = Float(type.largestFinite)
        overflow = type.hasInfinity ? .infinity : .nan
    }

    @inline(__always)
    func rounded(_ x: Float) -> Float {
        let bits = x.bitPattern
        let magnitude = bits & 0x7FFF_FFFF
        let a = Float(bitPattern: magnitude)
        let cut: UInt32 = (1 << shift) - 1
        let normal = Float(bitPattern: (magnitude &+ (cut >> 1) &+ ((magnitude >> shift) & 1)) & ~cut)
        let subnormal = (a + magic) - magic
        var r = a < smallestNormal ? subnormal : normal
        r = r > largest ? overflow : r
        r = a.isNaN ? a : r
        return Float(bitPattern: r.bitPattern | (bits & 0x8000_0000))
    }
}

/// The float32 value of every fp8 bit pattern (index = pattern), built once from
/// `ScalarType.decode`.
enum Float8Table {
    static let e4m3: [Float] = (0..<256).map { ScalarType.f8e4m3.decode(UInt32($0)) }
    static let e5m2: [Float] = (0..<256).map { ScalarType.f8e5m2.decode(UInt32($0)) }
}
