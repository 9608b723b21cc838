import CHDF5

/// The element type stored in a dataset or attribute, as HDF5 describes it.
///
/// Numeric classes carry their width so that, for example, an `int32` dataset written by
/// NumPy is reported as `.integer(bits: 32, signed: true)` rather than rejected; `float32`,
/// `float64` and `int64` (the three types this layer writes) are named by static members.
public enum HDF5DataType: Hashable, Sendable, CustomStringConvertible {
    /// IEEE-style floating point of the given width (16, 32, 64, …).
    case float(bits: Int)
    /// Two's-complement (`signed`) or unsigned integer of the given width.
    case integer(bits: Int, signed: Bool)
    /// A string, fixed-length or variable-length.
    case string
    /// Anything else (compound, enum — h5py's bool —, array, opaque, reference, …), with
    /// HDF5's class name.
    case other(String)

    /// 32-bit IEEE float (`Float`, `numpy.float32`).
    public static var float32: HDF5DataType { .float(bits: 32) }
    /// 64-bit IEEE float (`Double`, `numpy.float64`).
    public static var float64: HDF5DataType { .float(bits: 64) }
    /// Signed 64-bit integer (`Int64`, `numpy.int64`).
    public static var int64: HDF5DataType { .integer(bits: 64, signed: true) }

    /// `true` for integer and floating-point classes: the ones readable as `[Double]`.
    public var isNumeric: Bool {
        switch self {
        case .float, .integer: return true
        case .string, .other: return false
        }
    }

    /// NumPy-style name: "float32", "int64", "uint8", "string", "compound".
    public var description: String {
        switch self {
        case .float(let bits): return "float\(bits)"
        case .integer(let bits, let signed): return (signed ? "int" : "uint") + "\(bits)"
        case .string: return "string"
        case .other(let name): return name
        }
    }

    /// Classifies an HDF5 datatype identifier. Caller holds the HDF5 lock.
    static func classify(_ typeID: hid_t) -> HDF5DataType {
        let bits = Int(H5Tget_size(typeID)) * 8
        let typeClass = H5Tget_class(typeID)
        switch typeClass {
        case H5T_FLOAT: return .float(bits: bits)
        case H5T_INTEGER: return .integer(bits: bits, signed: H5Tget_sign(typeID) == H5T_SGN_2)
        case H5T_STRING: return .string
        case H5T_COMPOUND: return .other("compound")
        case H5T_ENUM: return .other("enum")
        case H5T_ARRAY: return .other("array")
        case H5T_VLEN: return .other("variable-length sequence")
        case H5T_OPAQUE: return .other("opaque")
        case H5T_BITFIELD: return .other("bitfield")
        case H5T_REFERENCE: return .other("reference")
        case H5T_TIME: return .other("time")
        default: return .other("unknown HDF5 type class \(typeClass.rawValue)")
        }
    }
}

/// Element types this layer writes and reads directly: `Float` (float32), `Double`
/// (float64) and `Int64` (int64). Other conformances are not supported.
public protocol HDF5Scalar: Sendable {
    /// The HDF5 type a dataset of this element type is stored as.
    static var hdf5DataType: HDF5DataType { get }
}

extension Float: HDF5Scalar {
    /// `.float32`.
    public static var hdf5DataType: HDF5DataType { .float32 }
}

extension Double: HDF5Scalar {
    /// `.float64`.
    public static var hdf5DataType: HDF5DataType { .float64 }
}

extension Int64: HDF5Scalar {
    /// `.int64`.
    public static var hdf5DataType: HDF5DataType { .int64 }
}

extension HDF5Scalar {
    /// HDF5 memory type matching this Swift type's in-memory layout. Caller holds the lock.
    static var memoryTypeID: hid_t { typeIDs.memory }

    /// HDF5 file type datasets of this type are stored as (little-endian). Caller holds the lock.
    static var fileTypeID: hid_t { typeIDs.file }

    /// The memory and file types of `hdf5DataType`. Caller holds the lock.
    private static var typeIDs: (memory: hid_t, file: hid_t) {
        switch hdf5DataType {
        case .float32: return (kc_h5t_native_float(), kc_h5t_ieee_f32le())
        case .float64: return (kc_h5t_native_double(), kc_h5t_ieee_f64le())
        case .int64: return (kc_h5t_native_int64(), kc_h5t_std_i64le())
        default: preconditionFailure("HDF5Scalar is only implemented by Float, Double and Int64")
        }
    }
}
