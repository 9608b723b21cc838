import KernelCheckCore
import KernelCheckHDF5
import KernelCheckProblems

/// How a case's input datasets are stored for each input type `dt` (fixtures/SCHEMA.md,
/// *Low precision*): float32 and IEEE half as themselves, bfloat16 and float8 as their bit
/// patterns in unsigned integers whose `dtype` attribute names the format the way ml_dtypes
/// and PyTorch do. Every stored value is a value of `dt` by construction; the reader decodes
/// the patterns exactly (`ScalarType.decode`), so the float32 tensors handed to kernels are
/// the stored numbers themselves.
public struct FixtureStorage: Sendable, Equatable {
    /// The name of the dataset attribute that says which format a bit pattern is.
    public static let dtypeAttribute = "dtype"

    /// The HDF5 element type (nil: float32, written through `write(_:to:)`).
    public var narrow: HDF5NarrowType?
    /// The required `dtype` attribute (nil: none required).
    public var attribute: String?

    /// The storage of inputs of type `dt`.
    public init(_ dt: ScalarType) {
        switch dt {
        case .f32: (narrow, attribute) = (nil, nil)
        case .f16: (narrow, attribute) = (.float16, nil)
        case .bf16: (narrow, attribute) = (.uint16, "bfloat16")
        case .f8e4m3: (narrow, attribute) = (.uint8, "float8_e4m3fn")
        case .f8e5m2: (narrow, attribute) = (.uint8, "float8_e5m2")
        }
    }

    /// The HDF5 type as `HDF5DataType.classify` reports it.
    public var dataType: HDF5DataType { narrow?.dataType ?? .float32 }

    /// "uint16 with attribute dtype='bfloat16'", "float16", "float32".
    public var description: String {
        dataType.description + (attribute.map { " with attribute \(Self.dtypeAttribute)='\($0)'" } ?? "")
    }

    /// The `dtype` value a dataset of a plain float type may carry (h5py users sometimes tag
    /// every dataset): its own NumPy name.
    var tolerableAttribute: String { attribute ?? dataType.description }
}

extension FixtureFile {
    /// Writes input `tensor` (every value already a value of `dt`) at `path` in `dt`'s storage.
    static func writeInput(
        _ tensor: Tensor<Float>, dt: ScalarType, to path: String, in file: HDF5File
    )
        throws(HDF5Error)
    {
        let storage = FixtureStorage(dt)
        guard let narrow = storage.narrow else {
            try file.write(tensor, to: path)
            return
        }
        try file.write(bytes: dt.encode(tensor.storage), as: narrow, shape: tensor.shape, to: path)
        if let attribute = storage.attribute {
            try file.setAttribute(FixtureStorage.dtypeAttribute, .string(attribute), on: path)
        }
    }

    /// Reads input `spec` of case `group`, stored as `dt` requires, exactly as Float values.
    ///
    /// Refuses, each naming the file, group and dataset: a stored type or `dtype` attribute
    /// other than `dt`'s (a float32 dataset in a dt=bf16 case, a uint16 without the attribute)
    /// — for a float32 dataset in a narrow case, the first value that is not a `dt` number is
    /// named, and when every value is one the message says so (the type must still match);
    /// a NaN or Inf, or a bit pattern that decodes to one (`0x7F` in f8e4m3), with its flat
    /// index.
    static func readInput(_ file: HDF5File, _ group: String, _ spec: TensorSpec, dt: ScalarType) throws -> Tensor<Float>
    {
        let path = "/" + group + "/" + spec.role
        guard try file.exists(path) else {
            throw FixtureError.missingDataset(file: file.path, group: group, role: spec.role)
        }
        let storage = FixtureStorage(dt)
        let info = try file.datasetInfo(path)
        let tag = try dtypeAttribute(file, path, group: group, role: spec.role)
        guard info.dataType == storage.dataType, tag == nil || tag == storage.tolerableAttribute,
            storage.attribute == nil || tag != nil
        else {
            try refuseStoredType(file, group, spec, dt: dt, info: info, tag: tag)
        }
        guard info.shape == spec.shape else {
            throw FixtureError.wrongShape(
                file: file.path, group: group, role: spec.role, expected: spec.shape, found: info.shape)
        }
        guard let narrow = storage.narrow else {
            let t = try file.readTensor(path, as: Float.self, expectedShape: spec.shape)
            if let i = t.storage.firstIndex(where: { !$0.isFinite }) {
                throw FixtureError.nonFinite(
                    file: file.path, group: group, role: spec.role, index: i, value: Double(t.storage[i]))
            }
            return t
        }
        let raw = try file.readBytes(path, as: narrow, expectedShape: spec.shape)
        let values = raw.bytes.withUnsafeBytes { dt.decode(bytes: $0) }
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            var bits: UInt32 = 0
            for b in 0..<dt.byteWidth { bits |= UInt32(raw.bytes[i * dt.byteWidth + b]) << (8 * b) }
            throw FixtureError.nonFinitePattern(
                file: file.path, group: group, role: spec.role, index: i, type: dt.rawValue, pattern: bits)
        }
        return try Tensor(shape: spec.shape, storage: values)
    }

    /// The dataset's `dtype` attribute, nil when absent; a non-string one is refused.
    private static func dtypeAttribute(
        _ file: HDF5File, _ path: String, group: String, role: String
    ) throws
        -> String?
    {
        guard try file.hasAttribute(FixtureStorage.dtypeAttribute, of: path) else { return nil }
        guard case .string(let s) = try file.attribute(FixtureStorage.dtypeAttribute, of: path) else {
            throw FixtureError.badAttribute(
                file: file.path, group: group, attribute: "\(role)/\(FixtureStorage.dtypeAttribute)",
                reason: "must be a string")
        }
        return s
    }

    /// Throws the error for a dataset whose stored type disagrees with `dt`.
    private static func refuseStoredType(
        _ file: HDF5File, _ group: String, _ spec: TensorSpec, dt: ScalarType, info: HDF5DatasetInfo, tag: String?
    ) throws -> Never {
        let storage = FixtureStorage(dt)
        let found =
            info.dataType.description
            + (tag.map { " with attribute \(FixtureStorage.dtypeAttribute)='\(MessageText.clip($0))'" }
                ?? (storage.attribute == nil || info.dataType != storage.dataType ? "" : " without a dtype attribute"))
        let expected = storage.description + (dt == .f32 ? "" : " (dt=\(dt))")
        // A float dataset in a narrow case: say whether its values would even be dt numbers.
        if dt != .f32, case .float = info.dataType, info.shape == spec.shape {
            let values = try file.readFloats("/" + group + "/" + spec.role).values
            let doubles = try file.readDoubles("/" + group + "/" + spec.role).values
            if let i = doubles.indices.first(where: { Double(values[$0]) != doubles[$0] || !dt.represents(values[$0]) }
            ) {
                throw FixtureError.unrepresentable(
                    file: file.path, group: group, role: spec.role, stored: found, type: dt.rawValue, index: i,
                    value: doubles[i], expected: expected)
            }
            throw FixtureError.wrongDataType(
                file: file.path, group: group, role: spec.role, expected: expected,
                found: found + " (every value is a \(dt) number, but the stored type must be \(dt)'s too)")
        }
        throw FixtureError.wrongDataType(
            file: file.path, group: group, role: spec.role, expected: expected, found: found)
    }
}
