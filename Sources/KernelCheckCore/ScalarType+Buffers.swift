/// Whole buffers in a narrow type's stored form: the bytes a kernel that converts its inputs
/// itself reads, an HDF5 dataset of bf16 / fp8 bit patterns holds, and a plug-in receives.
/// Elements are `bitWidth / 8` bytes each, little-endian, in the tensor's row-major order.
extension ScalarType {
    /// Bytes per stored element.
    public var byteWidth: Int { bitWidth / 8 }

    /// `values` rounded to this type and stored as its bit patterns.
    public func encode<C: Collection>(_ values: C) -> [UInt8] where C.Element == Float {
        var out = [UInt8](repeating: 0, count: values.count * byteWidth)
        out.withUnsafeMutableBytes { raw in
            var i = 0
            for v in values {
                let bits = encode(v)
                switch byteWidth {
                case 1: raw[i] = UInt8(truncatingIfNeeded: bits)
                case 2:
                    raw.storeBytes(
                        of: UInt16(truncatingIfNeeded: bits).littleEndian, toByteOffset: i * 2, as: UInt16.self)
                default: raw.storeBytes(of: bits.littleEndian, toByteOffset: i * 4, as: UInt32.self)
                }
                i += 1
            }
        }
        return out
    }

    /// The values of stored bit patterns; `bytes.count` must be a multiple of `byteWidth`
    /// (a trailing partial element is ignored).
    public func decode(bytes: UnsafeRawBufferPointer) -> [Float] {
        let n = bytes.count / byteWidth
        let table: [Float]? = bitWidth == 8 ? (0..<256).map { decode(UInt32($0)) } : nil
        return (0..<n).map { i in
            switch byteWidth {
            case 1: return table![Int(bytes[i])]
            case 2:
                return decode(UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
            default: return decode(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
        }
    }

    /// The index of the first element of `values` that this type does not represent exactly
    /// (a float32 that is not one of its numbers, NaN, or Inf where the type has none).
    public func firstUnrepresentable<C: Collection>(in values: C) -> Int? where C.Element == Float {
        var i = 0
        for v in values {
            if !represents(v) { return i }
            i += 1
        }
        return nil
    }
}
