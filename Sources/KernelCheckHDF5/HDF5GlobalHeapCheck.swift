import Foundation

/// A structural check of an HDF5 file's global heap collections, run before libhdf5 opens the
/// file.
///
/// Variable-length strings — every string attribute h5py or KernelCheck writes — live in
/// global heap collections. libhdf5 1.10 trusts the sizes stored there: an object whose size
/// runs past its collection makes `H5HG_read` copy from beyond the buffer (SIGSEGV), and a
/// free-space object of size 0 makes the collection parser loop forever. Both were found by
/// fuzzing the fixture reader (tools/fuzz.sh); this check turns them into `cannotOpen` errors.
///
/// Layout (HDF5 file format spec, "Global Heap"): `"GCOL"`, version 1, three reserved zero
/// bytes, the collection size (8 bytes, little-endian, header included), then objects: index
/// (2 bytes), reference count (2), reserved (4), size (8), data padded to a multiple of 8.
/// Index 0 is the free space, whose size counts its own 16-byte header; a tail shorter than
/// one header is free space too. Collections are found by their signature; 8 fixed bytes
/// (`GCOL 01 00 00 00`) make a false match inside numeric data vanishingly unlikely.
enum HDF5GlobalHeapCheck {
    static let headerSize = 16
    static let signature: [UInt8] = Array("GCOL".utf8) + [1, 0, 0, 0]

    /// `nil` when every collection is well-formed, else what is wrong and where.
    static func problem(in bytes: UnsafeRawBufferPointer) -> String? {
        guard let base = bytes.baseAddress, bytes.count >= signature.count else { return nil }
        // memchr for the first byte, then compare the rest (memmem is a GNU extension Swift's
        // Glibc module does not export).
        var offset = 0
        while offset + signature.count <= bytes.count {
            guard let hit = memchr(base + offset, Int32(signature[0]), bytes.count - signature.count + 1 - offset)
            else { return nil }
            let start = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(hit, signature, signature.count) == 0, let problem = checkCollection(bytes, at: start) {
                return problem
            }
            offset = start + 1
        }
        return nil
    }

    private static func le<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, _ offset: Int, as: T.Type) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) {
            $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + MemoryLayout<T>.size)]))
        }
        return T(littleEndian: value)
    }

    private static func checkCollection(_ bytes: UnsafeRawBufferPointer, at start: Int) -> String? {
        let here = "global heap collection at byte \(start)"
        guard start + headerSize <= bytes.count else { return "\(here): header cut off by the end of the file" }
        let size = le(bytes, start + 8, as: UInt64.self)
        guard size >= UInt64(headerSize), size <= UInt64(bytes.count - start) else {
            return "\(here): size \(size) does not fit in the file (\(bytes.count - start) bytes left)"
        }
        let end = start + Int(size)
        var p = start + headerSize
        while p < end {
            if p + headerSize > end { break }  // a tail too small for an object header is free space
            let index = le(bytes, p, as: UInt16.self)
            let objectSize = le(bytes, p + 8, as: UInt64.self)
            let room = UInt64(end - p)
            guard objectSize <= room else {
                return
                    "\(here): object \(index) at byte \(p) has size \(objectSize), past the collection's end at byte \(end)"
            }
            // Objects other than the free space add their header and pad data to 8 bytes
            // (no overflow: objectSize ≤ room, a byte count of the file).
            let need = index == 0 ? objectSize : UInt64(headerSize) + (objectSize + 7) & ~7
            guard need >= UInt64(headerSize) else {
                return "\(here): free-space object of size \(objectSize) at byte \(p) (less than its own header)"
            }
            guard need <= room else {
                return
                    "\(here): object \(index) at byte \(p) has size \(objectSize), past the collection's end at byte \(end)"
            }
            p += Int(need)
        }
        return nil
    }
}
