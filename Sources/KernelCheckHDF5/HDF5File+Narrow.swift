import CHDF5

/// The 16- and 8-bit element types of narrow-precision datasets, each read and written as its
/// raw little-endian bytes (no conversion to a wider type: the caller decodes the patterns).
///
/// | type      | file type (HDF5)                  | h5py / NumPy | holds                       |
/// |-----------|-----------------------------------|--------------|-----------------------------|
/// | `float16` | IEEE binary16 LE (1-5-10, bias 15) | `float16`    | half values                 |
/// | `uint16`  | `H5T_STD_U16LE`                   | `uint16`     | bfloat16 bit patterns       |
/// | `uint8`   | `H5T_STD_U8LE`                    | `uint8`      | float8 (e4m3fn, e5m2) patterns |
///
/// HDF5 has no bfloat16 or float8 type (1.10 not even binary16: the layer builds it as h5py
/// does), so those are stored as unsigned integers and a `dtype` attribute names the format.
public enum HDF5NarrowType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float16, uint16, uint8

    public var description: String { rawValue }

    /// How `HDF5DataType.classify` describes a dataset of this type.
    public var dataType: HDF5DataType {
        switch self {
        case .float16: return .float(bits: 16)
        case .uint16: return .integer(bits: 16, signed: false)
        case .uint8: return .integer(bits: 8, signed: false)
        }
    }

    /// Bytes per element.
    public var byteWidth: Int { self == .uint8 ? 1 : 2 }

    /// A new HDF5 type id of the little-endian layout; the caller closes it. Caller holds the lock.
    func createTypeID() -> hid_t {
        switch self {
        case .float16: return kc_h5t_ieee_f16le_create()
        case .uint16: return H5Tcopy(kc_h5t_std_u16le())
        case .uint8: return H5Tcopy(kc_h5t_std_u8le())
        }
    }
}

/// The raw elements of a narrow dataset: `shape` and `byteWidth · ∏ shape` little-endian bytes.
public struct HDF5Bytes: Sendable, Equatable {
    public let type: HDF5NarrowType
    /// Row-major shape, outermost first; `[]` for a scalar dataset.
    public let shape: [Int]
    public let bytes: [UInt8]
}

extension HDF5File {
    /// Writes a new dataset of `type` whose elements are `bytes` (little-endian, row-major,
    /// `type.byteWidth` bytes each), contiguous and uncompressed, creating missing parents.
    /// Throws `invalidShape` when `bytes.count ≠ byteWidth · ∏ shape`, otherwise as
    /// `write(_:shape:to:)`.
    public func write(bytes: [UInt8], as type: HDF5NarrowType, shape: [Int], to path: String) throws(HDF5Error) {
        let normalized = HDF5Library.normalize(path)
        guard shape.allSatisfy({ $0 >= 0 }), let count = elementCount(shape), count * type.byteWidth == bytes.count
        else {
            throw .invalidShape(
                file: self.path, object: normalized, shape: shape, valueCount: bytes.count / type.byteWidth)
        }
        try withFileID { (fid) throws(HDF5Error) in
            let typeID = type.createTypeID()
            guard typeID >= 0 else {
                throw .writeFailed(file: self.path, object: normalized, reason: HDF5Library.errorStackText())
            }
            defer { H5Tclose(typeID) }
            // Memory and file layouts are the same (little-endian bytes): no conversion.
            try bytes.withUnsafeBytes { raw in
                Result { () throws(HDF5Error) in
                    try createDataset(
                        fid, normalized, shape: shape, fileType: typeID, memoryType: typeID,
                        values: count > 0 ? raw.baseAddress : nil)
                }
            }.get()
        }
    }

    /// Reads the dataset at `path`, which must be stored as `type` (`unsupportedType`
    /// otherwise: a float32 dataset is never narrowed), as little-endian bytes. A big-endian
    /// dataset of the same type is converted by HDF5. `expectedShape`, when given, must match.
    public func readBytes(
        _ path: String, as type: HDF5NarrowType, expectedShape: [Int]? = nil
    ) throws(HDF5Error) -> HDF5Bytes {
        let normalized = HDF5Library.normalize(path)
        return try withFileID { (fid) throws(HDF5Error) -> HDF5Bytes in
            try withDataset(fid, normalized) { (dataset, _, info) throws(HDF5Error) -> HDF5Bytes in
                guard info.dataType == type.dataType else {
                    throw .unsupportedType(
                        file: self.path, object: normalized, requested: "\(type)", found: "\(info.dataType)")
                }
                if let expectedShape, expectedShape != info.shape {
                    throw .shapeMismatch(
                        file: self.path, object: normalized, expected: expectedShape, found: info.shape)
                }
                let byteCount = try checkedByteCount(info.shape, bytesPerElement: type.byteWidth, object: normalized)
                guard byteCount > 0 else { return HDF5Bytes(type: type, shape: info.shape, bytes: []) }
                let typeID = type.createTypeID()
                guard typeID >= 0 else {
                    throw .readFailed(file: self.path, object: normalized, reason: HDF5Library.errorStackText())
                }
                defer { H5Tclose(typeID) }
                var status: herr_t = 0
                let bytes = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
                    status = H5Dread(
                        dataset, typeID, kc_h5s_all(), kc_h5s_all(), kc_h5p_default(), buffer.baseAddress)
                    // H5Dread fills every byte on success; on failure the array is discarded.
                    initialized = status >= 0 ? byteCount : 0
                }
                guard status >= 0 else {
                    throw .readFailed(file: self.path, object: normalized, reason: HDF5Library.errorStackText())
                }
                return HDF5Bytes(type: type, shape: info.shape, bytes: bytes)
            }
        }
    }
}
