import CHDF5
import Foundation

/// The value of an attribute.
///
/// Scalars (HDF5 scalar dataspace) read as `.string`, `.int` or `.double`; attributes with a
/// simple dataspace of any rank, even one element, read as the matching array case, flattened
/// row-major. Integer attributes of any width read as `.int`, float attributes of any width
/// as `.double`.
public enum HDF5AttributeValue: Equatable, Sendable, CustomStringConvertible {
    /// A string; written as a variable-length UTF-8 string (what h5py writes for `str`).
    case string(String)
    /// A signed integer; written as int64.
    case int(Int64)
    /// A floating-point number; written as float64.
    case double(Double)
    /// A 1-D array of strings (variable-length UTF-8 when written).
    case stringArray([String])
    /// A 1-D array of integers (int64 when written).
    case intArray([Int64])
    /// A 1-D array of floating-point numbers (float64 when written).
    case doubleArray([Double])

    /// The value as Python would print it: `'text'`, `42`, `0.5`, `[1, 2]`.
    public var description: String {
        switch self {
        case .string(let s): return "'\(s)'"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .stringArray(let a): return "[" + a.map { "'\($0)'" }.joined(separator: ", ") + "]"
        case .intArray(let a): return "\(a)"
        case .doubleArray(let a): return "\(a)"
        }
    }

    /// Kind name used in error messages: "string", "int", "double", "string array", ….
    var kindName: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .double: return "double"
        case .stringArray: return "string array"
        case .intArray: return "int array"
        case .doubleArray: return "double array"
        }
    }
}

extension HDF5File {
    /// Sets attribute `name` on the object (group or dataset) at `path`; `"/"` is the file's
    /// root group. An existing attribute of that name is replaced, as h5py's `attrs[name] =`
    /// does. Strings must not contain NUL characters (C strings end there).
    public func setAttribute(_ name: String, _ value: HDF5AttributeValue, on path: String = "/") throws(HDF5Error) {
        let normalized = HDF5Library.normalize(path)
        try withFileID { (fid) throws(HDF5Error) in
            try withObject(fid, normalized) { (object) throws(HDF5Error) in
                let failed = self.attributeFailure(HDF5Error.writeFailed, object: normalized, attribute: name)
                let exists = try Self.attributeExists(
                    object, name, step: "checking for an existing attribute", failed: failed)
                if exists, H5Adelete(object, name) < 0 { throw failed("deleting the previous value") }

                let shape: [Int]
                switch value {
                case .string, .int, .double: shape = []
                case .stringArray(let a): shape = [a.count]
                case .intArray(let a): shape = [a.count]
                case .doubleArray(let a): shape = [a.count]
                }
                let space = try createDataspace(shape, object: normalized)
                defer { H5Sclose(space) }

                // The type the attribute is stored as, and a closure doing the one H5Awrite.
                let type: hid_t
                let ownsType: Bool
                switch value {
                case .string, .stringArray:
                    type = HDF5File.variableLengthUTF8Type()
                    ownsType = true
                case .int, .intArray:
                    type = kc_h5t_std_i64le()
                    ownsType = false
                case .double, .doubleArray:
                    type = kc_h5t_ieee_f64le()
                    ownsType = false
                }
                defer { if ownsType { H5Tclose(type) } }

                let attribute = H5Acreate2(object, name, type, space, kc_h5p_default(), kc_h5p_default())
                guard attribute >= 0 else { throw failed("creating it") }
                defer { H5Aclose(attribute) }

                let status: herr_t
                switch value {
                case .string(let s): status = HDF5File.writeStrings([s], to: attribute, type: type)
                case .stringArray(let a): status = HDF5File.writeStrings(a, to: attribute, type: type)
                case .int(let i): status = HDF5File.writeNumbers([i], to: attribute, memoryType: kc_h5t_native_int64())
                case .intArray(let a):
                    status = HDF5File.writeNumbers(a, to: attribute, memoryType: kc_h5t_native_int64())
                case .double(let d):
                    status = HDF5File.writeNumbers([d], to: attribute, memoryType: kc_h5t_native_double())
                case .doubleArray(let a):
                    status = HDF5File.writeNumbers(a, to: attribute, memoryType: kc_h5t_native_double())
                }
                guard status >= 0 else { throw failed("writing its value") }
            }
        }
    }

    /// Whether the object at `path` has an attribute `name`; throws `missingObject`.
    public func hasAttribute(_ name: String, of path: String = "/") throws(HDF5Error) -> Bool {
        let normalized = HDF5Library.normalize(path)
        return try withFileID { (fid) throws(HDF5Error) -> Bool in
            try withObject(fid, normalized) { (object) throws(HDF5Error) -> Bool in
                let exists = H5Aexists(object, name)
                guard exists >= 0 else {
                    throw .readFailed(
                        file: self.path, object: normalized,
                        reason: "attribute '\(name)': " + HDF5Library.errorStackText())
                }
                return exists > 0
            }
        }
    }

    /// Names of the attributes of the object at `path`, sorted by their UTF-8 bytes.
    public func attributeNames(of path: String = "/") throws(HDF5Error) -> [String] {
        let normalized = HDF5Library.normalize(path)
        return try withFileID { (fid) throws(HDF5Error) -> [String] in
            try withObject(fid, normalized) { (object) throws(HDF5Error) -> [String] in
                try sortedNames(of: normalized, "attribute") { kc_attribute_names(object, $0) }
            }
        }
    }

    /// Reads attribute `name` of the object at `path` (`"/"` for the file root). Strings may
    /// be variable- or fixed-length, ASCII or UTF-8. Throws `missingObject`,
    /// `missingAttribute`, or `unsupportedAttributeType` for other types (compound, enum —
    /// h5py's bool —, unsigned 64-bit integers, a null dataspace).
    public func attribute(_ name: String, of path: String = "/") throws(HDF5Error) -> HDF5AttributeValue {
        let normalized = HDF5Library.normalize(path)
        return try withFileID { (fid) throws(HDF5Error) -> HDF5AttributeValue in
            try withObject(fid, normalized) { (object) throws(HDF5Error) -> HDF5AttributeValue in
                try readAttribute(object, name, objectPath: normalized)
            }
        }
    }

    /// Attribute `name` as a string; throws `unsupportedAttributeType` unless it is a scalar string.
    public func stringAttribute(_ name: String, of path: String = "/") throws(HDF5Error) -> String {
        let value = try attribute(name, of: path)
        guard case .string(let s) = value else { throw mismatch(name, path, requested: "string", found: value) }
        return s
    }

    /// Attribute `name` as an integer; throws `unsupportedAttributeType` unless it is a scalar integer.
    public func intAttribute(_ name: String, of path: String = "/") throws(HDF5Error) -> Int64 {
        let value = try attribute(name, of: path)
        guard case .int(let i) = value else { throw mismatch(name, path, requested: "int", found: value) }
        return i
    }

    /// Attribute `name` as a `Double`: a scalar float, or a scalar integer converted (exact up
    /// to 2⁵³); throws `unsupportedAttributeType` otherwise.
    public func doubleAttribute(_ name: String, of path: String = "/") throws(HDF5Error) -> Double {
        let value = try attribute(name, of: path)
        switch value {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: throw mismatch(name, path, requested: "double", found: value)
        }
    }

    // MARK: - Internal (caller holds the lock)

    private func mismatch(_ name: String, _ path: String, requested: String, found: HDF5AttributeValue) -> HDF5Error {
        .unsupportedAttributeType(
            file: self.path, object: HDF5Library.normalize(path), attribute: name,
            requested: requested, found: found.kindName)
    }

    /// Opens the group or dataset at `path` for `body`; throws `missingObject`.
    func withObject<R>(_ fid: hid_t, _ path: String, _ body: (hid_t) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
        guard try objectKind(fid, path) != nil else { throw .missingObject(file: self.path, object: path) }
        let object = H5Oopen(fid, path, kc_h5p_default())
        guard object >= 0 else {
            throw .readFailed(file: self.path, object: path, reason: HDF5Library.errorStackText())
        }
        defer { H5Oclose(object) }
        return try body(object)
    }

    /// A variable-length, NUL-terminated UTF-8 string type (h5py's `str`). Caller closes it.
    static func variableLengthUTF8Type() -> hid_t {
        let type = H5Tcopy(kc_h5t_c_s1())
        H5Tset_size(type, kc_h5t_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        H5Tset_strpad(type, H5T_STR_NULLTERM)
        return type
    }

    /// The errors of one attribute's steps: `kind(file, object, reason)`, the reason naming
    /// the attribute and the step that failed, then HDF5's error stack (read when the error is
    /// built, right after the failing call).
    private func attributeFailure(
        _ kind: @escaping (String, String, String) -> HDF5Error, object: String, attribute name: String
    ) -> (String) -> HDF5Error {
        let file = path
        return { what in kind(file, object, "attribute '\(name)': \(what): " + HDF5Library.errorStackText()) }
    }

    /// Whether `object` has attribute `name`; when HDF5 cannot tell, throws `failed(step)`.
    private static func attributeExists(
        _ object: hid_t, _ name: String, step: String, failed: (String) -> HDF5Error
    ) throws(HDF5Error) -> Bool {
        let exists = H5Aexists(object, name)
        guard exists >= 0 else { throw failed(step) }
        return exists > 0
    }

    private static func writeStrings(_ strings: [String], to attribute: hid_t, type: hid_t) -> herr_t {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeMutableBufferPointer { H5Awrite(attribute, type, $0.baseAddress) }
    }

    private static func writeNumbers<T>(_ values: [T], to attribute: hid_t, memoryType: hid_t) -> herr_t {
        // An empty array attribute has nothing to write (and HDF5 rejects a null buffer).
        guard !values.isEmpty else { return 0 }
        return values.withUnsafeBytes { H5Awrite(attribute, memoryType, $0.baseAddress) }
    }

    private func readAttribute(
        _ object: hid_t, _ name: String, objectPath: String
    ) throws(HDF5Error) -> HDF5AttributeValue {
        let failed = attributeFailure(HDF5Error.readFailed, object: objectPath, attribute: name)
        guard try Self.attributeExists(object, name, step: "checking that it exists", failed: failed) else {
            throw .missingAttribute(file: self.path, object: objectPath, attribute: name)
        }

        let attribute = H5Aopen(object, name, kc_h5p_default())
        guard attribute >= 0 else { throw failed("opening it") }
        defer { H5Aclose(attribute) }
        let fileType = H5Aget_type(attribute)
        guard fileType >= 0 else { throw failed("reading its type") }
        defer { H5Tclose(fileType) }
        let space = H5Aget_space(attribute)
        guard space >= 0 else { throw failed("reading its dataspace") }
        defer { H5Sclose(space) }

        let dataType = HDF5DataType.classify(fileType)
        guard let shape = try shapeOf(dataspace: space, object: objectPath) else {
            throw .unsupportedAttributeType(
                file: self.path, object: objectPath, attribute: name,
                requested: "a value", found: "\(dataType) with a null dataspace (no value)")
        }
        // Up to 8 bytes per element (numbers, string pointers); fixed strings are checked again below.
        let count = try checkedByteCount(shape, bytesPerElement: 8, object: objectPath) / 8
        let isScalar = shape.isEmpty

        switch dataType {
        case .string:
            let strings = try readStrings(
                attribute, fileType: fileType, count: count, objectPath: objectPath, failed: failed)
            return isScalar ? .string(strings[0]) : .stringArray(strings)
        case .integer(let bits, let signed) where signed ? bits <= 64 : bits < 64:
            let values: [Int64] = try readNumbers(
                attribute, count: count, memoryType: kc_h5t_native_int64(), failed: failed)
            return isScalar ? .int(values[0]) : .intArray(values)
        case .float:
            let values: [Double] = try readNumbers(
                attribute, count: count, memoryType: kc_h5t_native_double(), failed: failed)
            return isScalar ? .double(values[0]) : .doubleArray(values)
        default:
            throw .unsupportedAttributeType(
                file: self.path, object: objectPath, attribute: name,
                requested: "string, integer or float", found: "\(dataType)")
        }
    }

    private func readNumbers<T>(
        _ attribute: hid_t, count: Int, memoryType: hid_t,
        failed: (String) -> HDF5Error
    ) throws(HDF5Error) -> [T] {
        guard count > 0 else { return [] }
        var status: herr_t = 0
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Aread(attribute, memoryType, buffer.baseAddress)
            // H5Aread fills every element on success; on failure the array is discarded.
            initialized = status >= 0 ? count : 0
        }
        guard status >= 0 else { throw failed("reading its value") }
        return values
    }

    /// Reads `count` strings, variable-length (HDF5 allocates each; freed here) or
    /// fixed-length (cut at the first NUL; trailing spaces trimmed for space-padded types).
    private func readStrings(
        _ attribute: hid_t, fileType: hid_t, count: Int, objectPath: String,
        failed: (String) -> HDF5Error
    ) throws(HDF5Error) -> [String] {
        guard count > 0 else { return [] }
        let isVariable = H5Tis_variable_str(fileType)
        guard isVariable >= 0 else { throw failed("reading its string type") }
        if isVariable > 0 {
            let memoryType = H5Tcopy(kc_h5t_c_s1())
            defer { H5Tclose(memoryType) }
            H5Tset_size(memoryType, kc_h5t_variable())
            // HDF5 does not convert between character sets; read in the stored one.
            H5Tset_cset(memoryType, H5Tget_cset(fileType))
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            let status = pointers.withUnsafeMutableBufferPointer { H5Aread(attribute, memoryType, $0.baseAddress) }
            defer { pointers.forEach { if let p = $0 { H5free_memory(p) } } }
            guard status >= 0 else { throw failed("reading its value") }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = Int(H5Tget_size(fileType))
        guard size > 0 else { throw failed("reading its string size") }
        _ = try checkedByteCount([count], bytesPerElement: size, object: objectPath)
        let memoryType = H5Tcopy(fileType)
        defer { H5Tclose(memoryType) }
        var bytes = [UInt8](repeating: 0, count: size * count)
        let status = bytes.withUnsafeMutableBytes { H5Aread(attribute, memoryType, $0.baseAddress) }
        guard status >= 0 else { throw failed("reading its value") }
        let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
        return (0..<count).map { index in
            var element = bytes[(index * size)..<((index + 1) * size)]
            if let nul = element.firstIndex(of: 0) { element = element[..<nul] }
            if spacePadded { while element.last == 0x20 { element = element.dropLast() } }
            return String(decoding: element, as: UTF8.self)
        }
    }
}
