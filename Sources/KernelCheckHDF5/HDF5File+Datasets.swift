import CHDF5
import KernelCheckCore

/// The stored element type and shape of a dataset.
public struct HDF5DatasetInfo: Sendable, Equatable {
    /// Normalized object path of the dataset.
    public let path: String
    /// Element type as stored in the file.
    public let dataType: HDF5DataType
    /// Row-major shape, outermost first; `[]` for a scalar dataset.
    public let shape: [Int]
    /// `∏ shape` (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// Values read from a dataset, row-major, with the dataset's stored type and shape.
public struct HDF5Array<Element: HDF5Scalar>: Sendable {
    /// Element type as stored in the file (before any conversion to `Element`).
    public let storedType: HDF5DataType
    /// Row-major shape, outermost first; `[]` for a scalar dataset.
    public let shape: [Int]
    /// The elements, row-major, converted to `Element`.
    public let values: [Element]
}

extension HDF5Array: Equatable where Element: Equatable {}

extension HDF5File {
    /// Writes a new dataset of `values` (row-major) with `shape` at `path`, creating missing
    /// parent groups. `shape == []` writes a scalar dataset (HDF5 scalar dataspace, h5py's
    /// `shape == ()`); any rank HDF5 allows (up to 32) works. `Float` is stored as
    /// little-endian float32, `Double` as float64, `Int64` as int64, contiguous and
    /// uncompressed.
    ///
    /// Throws `invalidShape` when `values.count ≠ ∏ shape`, `alreadyExists` when an object is
    /// already at `path` (datasets are never silently replaced), `notAGroup` when a parent is
    /// a dataset, and `writeFailed` when HDF5 refuses (a read-only file, for example).
    public func write<T: HDF5Scalar>(_ values: [T], shape: [Int], to path: String) throws(HDF5Error) {
        let normalized = HDF5Library.normalize(path)
        guard shape.allSatisfy({ $0 >= 0 }), let count = elementCount(shape), count == values.count else {
            throw .invalidShape(file: self.path, object: normalized, shape: shape, valueCount: values.count)
        }
        try withFileID { (fid) throws(HDF5Error) in
            // withUnsafeBytes rethrows untyped errors: the typed one travels in a Result.
            try values.withUnsafeBytes { bytes in
                Result { () throws(HDF5Error) in
                    try createDataset(
                        fid, normalized, shape: shape, fileType: T.fileTypeID, memoryType: T.memoryTypeID,
                        values: count > 0 ? bytes.baseAddress : nil)
                }
            }.get()
        }
    }

    /// Creates the dataset `normalized` (no object may be there yet; missing parents are
    /// created) of `shape` and `fileType`, and writes `values` (laid out as `memoryType`; nil
    /// for zero elements). Caller holds the lock.
    func createDataset(
        _ fid: hid_t, _ normalized: String, shape: [Int], fileType: hid_t, memoryType: hid_t,
        values: UnsafeRawPointer?
    ) throws(HDF5Error) {
        let components = HDF5Library.components(normalized)
        guard !components.isEmpty else {
            throw .writeFailed(
                file: self.path, object: normalized, reason: "a dataset needs a name; \"/\" is the root group")
        }
        if try objectKind(fid, normalized) != nil {
            throw .alreadyExists(file: self.path, object: normalized)
        }
        try ensureGroup(fid, "/" + components.dropLast().joined(separator: "/"))

        let space = try createDataspace(shape, object: normalized)
        defer { H5Sclose(space) }
        let properties = kc_untimed_creation_properties(0)
        defer { H5Pclose(properties) }
        let dataset = H5Dcreate2(fid, normalized, fileType, space, kc_h5p_default(), properties, kc_h5p_default())
        guard dataset >= 0 else {
            throw .writeFailed(file: self.path, object: normalized, reason: HDF5Library.errorStackText())
        }
        defer { H5Dclose(dataset) }
        // HDF5 rejects a null buffer even for zero elements; there is nothing to write then.
        guard let values else { return }
        let status = H5Dwrite(dataset, memoryType, kc_h5s_all(), kc_h5s_all(), kc_h5p_default(), values)
        guard status >= 0 else {
            throw .writeFailed(file: self.path, object: normalized, reason: HDF5Library.errorStackText())
        }
    }

    /// Writes a scalar dataset (`shape == []`) holding `value`.
    public func write<T: HDF5Scalar>(scalar value: T, to path: String) throws(HDF5Error) {
        try write([value], shape: [], to: path)
    }

    /// Stored element type and shape of the dataset at `path`, without reading its values.
    public func datasetInfo(_ path: String) throws(HDF5Error) -> HDF5DatasetInfo {
        let normalized = HDF5Library.normalize(path)
        return try withFileID { (fid) throws(HDF5Error) -> HDF5DatasetInfo in
            try withDataset(fid, normalized) { (_, _, info) throws(HDF5Error) in info }
        }
    }

    /// Reads the dataset at `path` as `T`, reporting its stored type and shape.
    ///
    /// Conversions: as `Double` from any integer or float type (float32 widens exactly,
    /// integers above 2⁵³ round to nearest); as `Float` from float32 exactly and from anything
    /// else through `Double`, rounding to nearest (out-of-range values become ±∞); as `Int64`
    /// only from integer types that fit (signed up to 64 bits, unsigned up to 32 — never from
    /// floats). Any other stored type throws `unsupportedType`; `expectedShape`, when given,
    /// must equal the stored shape or `shapeMismatch` is thrown.
    public func read<T: HDF5Scalar>(
        _ path: String, as type: T.Type, expectedShape: [Int]? = nil
    ) throws(HDF5Error) -> HDF5Array<T> {
        let normalized = HDF5Library.normalize(path)
        return try withFileID { (fid) throws(HDF5Error) -> HDF5Array<T> in
            try withDataset(fid, normalized) { (dataset, _, info) throws(HDF5Error) -> HDF5Array<T> in
                if let expectedShape, expectedShape != info.shape {
                    throw .shapeMismatch(
                        file: self.path, object: normalized, expected: expectedShape, found: info.shape)
                }
                let values: [T] = try readValues(dataset, info, as: T.self)
                return HDF5Array(storedType: info.dataType, shape: info.shape, values: values)
            }
        }
    }

    /// `read(path, as: Double.self)`: any numeric dataset as `Double`.
    public func readDoubles(_ path: String, expectedShape: [Int]? = nil) throws(HDF5Error) -> HDF5Array<Double> {
        try read(path, as: Double.self, expectedShape: expectedShape)
    }

    /// `read(path, as: Float.self)`: any numeric dataset as `Float` (rounded to nearest).
    public func readFloats(_ path: String, expectedShape: [Int]? = nil) throws(HDF5Error) -> HDF5Array<Float> {
        try read(path, as: Float.self, expectedShape: expectedShape)
    }

    /// `read(path, as: Int64.self)`: an integer dataset as `Int64`.
    public func readInt64s(_ path: String, expectedShape: [Int]? = nil) throws(HDF5Error) -> HDF5Array<Int64> {
        try read(path, as: Int64.self, expectedShape: expectedShape)
    }

    // MARK: - Internal (caller holds the lock)

    func elementCount(_ shape: [Int]) -> Int? {
        var total = 1
        for dimension in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// A scalar dataspace for `[]`, a simple one otherwise.
    func createDataspace(_ shape: [Int], object: String) throws(HDF5Error) -> hid_t {
        let space: hid_t
        if shape.isEmpty {
            space = H5Screate(H5S_SCALAR)
        } else {
            let dims = shape.map { hsize_t($0) }
            space = H5Screate_simple(Int32(dims.count), dims, nil)
        }
        guard space >= 0 else {
            throw .writeFailed(
                file: path, object: object,
                reason: "shape \(shape): " + HDF5Library.errorStackText())
        }
        return space
    }

    /// Shape of a dataspace: `[]` for scalar, the extents for simple; `nil` for a null
    /// dataspace (h5py's `Empty`), which holds no values at all.
    func shapeOf(dataspace space: hid_t, object: String) throws(HDF5Error) -> [Int]? {
        switch H5Sget_simple_extent_type(space) {
        case H5S_SCALAR:
            return []
        case H5S_SIMPLE:
            let rank = H5Sget_simple_extent_ndims(space)
            guard rank >= 0 else {
                throw .readFailed(file: path, object: object, reason: HDF5Library.errorStackText())
            }
            var dims = [hsize_t](repeating: 0, count: Int(rank))
            guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else {
                throw .readFailed(file: path, object: object, reason: HDF5Library.errorStackText())
            }
            var shape: [Int] = []
            for extent in dims {
                guard let dimension = Int(exactly: extent) else {
                    throw .readFailed(
                        file: path, object: object, reason: "extent \(extent) in \(dims) does not fit in Int")
                }
                shape.append(dimension)
            }
            return shape
        case H5S_NULL:
            return nil
        default:
            throw .readFailed(
                file: path, object: object, reason: "unknown dataspace class: " + HDF5Library.errorStackText())
        }
    }

    /// Opens the dataset at `path`, describes it, and passes both to `body`.
    func withDataset<R>(
        _ fid: hid_t, _ path: String,
        _ body: (hid_t, hid_t, HDF5DatasetInfo) throws(HDF5Error) -> R
    ) throws(HDF5Error) -> R {
        try requireKind(fid, path, .dataset)
        let dataset = H5Dopen2(fid, path, kc_h5p_default())
        guard dataset >= 0 else {
            throw .readFailed(file: self.path, object: path, reason: HDF5Library.errorStackText())
        }
        defer { H5Dclose(dataset) }
        var filter: Int32 = 0
        switch kc_dataset_storage(dataset, &filter) {
        case 0: break
        case 3: throw .unavailableFilter(file: self.path, object: path, filter: Int(filter))
        case 1: throw .externalStorage(file: self.path, object: path, reason: "in external raw files")
        case 2:
            throw .externalStorage(
                file: self.path, object: path, reason: "a virtual dataset, mapped from other datasets")
        default: throw .readFailed(file: self.path, object: path, reason: HDF5Library.errorStackText())
        }
        let fileType = H5Dget_type(dataset)
        guard fileType >= 0 else {
            throw .readFailed(file: self.path, object: path, reason: HDF5Library.errorStackText())
        }
        defer { H5Tclose(fileType) }
        let space = H5Dget_space(dataset)
        guard space >= 0 else {
            throw .readFailed(file: self.path, object: path, reason: HDF5Library.errorStackText())
        }
        defer { H5Sclose(space) }
        let dataType = HDF5DataType.classify(fileType)
        guard let shape = try shapeOf(dataspace: space, object: path) else {
            throw .unsupportedType(
                file: self.path, object: path, requested: "an array",
                found: "\(dataType) with a null dataspace (no values)")
        }
        // The product is checked here so `HDF5DatasetInfo.elementCount` cannot overflow; the
        // memory budget applies only when values are read.
        _ = try checkedByteCount(shape, bytesPerElement: 1, object: path, enforceBudget: false)
        return try body(dataset, fileType, HDF5DatasetInfo(path: path, dataType: dataType, shape: shape))
    }

    /// `∏ shape · bytesPerElement`, or `exceedsMemoryBudget` when it overflows `Int` or (with
    /// `enforceBudget`) exceeds `MemoryBudget.bytes`. Called before every allocation sized by
    /// the file's contents.
    func checkedByteCount(
        _ shape: [Int], bytesPerElement: Int, object: String,
        enforceBudget: Bool = true
    ) throws(HDF5Error) -> Int {
        var bytes = bytesPerElement
        for dimension in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw .exceedsMemoryBudget(
                    file: path, object: object, shape: shape, bytes: .max, budget: MemoryBudget.bytes)
            }
            bytes = product
        }
        guard !enforceBudget || bytes <= MemoryBudget.bytes else {
            throw .exceedsMemoryBudget(
                file: path, object: object, shape: shape, bytes: bytes, budget: MemoryBudget.bytes)
        }
        return bytes
    }

    /// Reads all elements of an open dataset as `T`, applying the conversion rules of `read`.
    private func readValues<T: HDF5Scalar>(
        _ dataset: hid_t, _ info: HDF5DatasetInfo, as type: T.Type
    ) throws(HDF5Error) -> [T] {
        let object = info.path
        // Largest buffer used: 8 bytes per element (Float reads of non-float32 go through Double).
        _ = try checkedByteCount(info.shape, bytesPerElement: 8, object: object)
        func unsupported() -> HDF5Error {
            .unsupportedType(file: path, object: object, requested: "\(T.hdf5DataType)", found: "\(info.dataType)")
        }
        switch (T.hdf5DataType, info.dataType) {
        case (.float64, .float), (.float64, .integer):
            return try readRaw(dataset, count: info.elementCount, memoryType: T.memoryTypeID, object: object)
        case (.float32, .float32):
            return try readRaw(dataset, count: info.elementCount, memoryType: T.memoryTypeID, object: object)
        case (.float32, .float), (.float32, .integer):
            let doubles: [Double] = try readRaw(
                dataset, count: info.elementCount,
                memoryType: kc_h5t_native_double(), object: object)
            return doubles.map { Float($0) } as! [T]
        case (.int64, .integer(let bits, let signed)) where signed ? bits <= 64 : bits < 64:
            return try readRaw(dataset, count: info.elementCount, memoryType: T.memoryTypeID, object: object)
        default:
            throw unsupported()
        }
    }

    /// One `H5Dread` of `count` elements converted by HDF5 to `memoryType` (whose layout is `T`).
    private func readRaw<T>(_ dataset: hid_t, count: Int, memoryType: hid_t, object: String) throws(HDF5Error) -> [T] {
        guard count > 0 else { return [] }
        var status: herr_t = 0
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Dread(dataset, memoryType, kc_h5s_all(), kc_h5s_all(), kc_h5p_default(), buffer.baseAddress)
            // H5Dread fills every element on success; on failure the array is discarded.
            initialized = status >= 0 ? count : 0
        }
        guard status >= 0 else {
            throw .readFailed(file: path, object: object, reason: HDF5Library.errorStackText())
        }
        return values
    }
}
