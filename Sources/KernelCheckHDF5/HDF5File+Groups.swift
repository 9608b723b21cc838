import CHDF5

/// What an object path in a file refers to.
public enum HDF5ObjectKind: Sendable, Equatable, CustomStringConvertible {
    /// A group (a directory of named members).
    case group
    /// A dataset (an n-dimensional array).
    case dataset
    /// A committed (named) datatype.
    case namedDatatype
    /// Any other object type HDF5 may report.
    case other

    /// "group", "dataset", "named datatype" or "other object".
    public var description: String {
        switch self {
        case .group: return "group"
        case .dataset: return "dataset"
        case .namedDatatype: return "named datatype"
        case .other: return "other object"
        }
    }
}

extension HDF5File {
    /// The root group "/".
    public var root: HDF5Group { HDF5Group(file: self, path: "/") }

    /// Creates the group at `path` together with any missing parent groups (like
    /// `mkdir -p`, or h5py's `require_group`); an existing group is returned unchanged.
    /// Throws `notAGroup` if `path` or one of its parents is a dataset.
    @discardableResult
    public func createGroup(_ path: String) throws(HDF5Error) -> HDF5Group {
        let normalized = HDF5Library.normalize(path)
        try withFileID { (fid) throws(HDF5Error) in try ensureGroup(fid, normalized) }
        return HDF5Group(file: self, path: normalized)
    }

    /// The existing group at `path`; throws `missingObject` or `notAGroup`.
    public func group(_ path: String) throws(HDF5Error) -> HDF5Group {
        let normalized = HDF5Library.normalize(path)
        try withFileID { (fid) throws(HDF5Error) in try requireKind(fid, normalized, .group) }
        return HDF5Group(file: self, path: normalized)
    }

    /// Whether an object (group or dataset) exists at `path`. The root always exists.
    public func exists(_ path: String) throws(HDF5Error) -> Bool {
        let normalized = HDF5Library.normalize(path)
        return try withFileID { (fid) throws(HDF5Error) -> Bool in objectKind(fid, normalized) != nil }
    }

    /// Whether the object at `path` is a group or a dataset; throws `missingObject`.
    public func kind(of path: String) throws(HDF5Error) -> HDF5ObjectKind {
        let normalized = HDF5Library.normalize(path)
        return try withFileID { (fid) throws(HDF5Error) -> HDF5ObjectKind in
            guard let kind = objectKind(fid, normalized) else {
                throw .missingObject(file: self.path, object: normalized)
            }
            return kind
        }
    }

    /// Names (not paths) of the members of the group at `path`, sorted by their UTF-8 bytes —
    /// HDF5's name order, the order h5py's `keys()` lists them. Creation order is not kept.
    public func memberNames(ofGroup path: String = "/") throws(HDF5Error) -> [String] {
        let normalized = HDF5Library.normalize(path)
        return try withFileID { (fid) throws(HDF5Error) -> [String] in
            try requireKind(fid, normalized, .group)
            let group = H5Gopen2(fid, normalized, kc_h5p_default())
            guard group >= 0 else {
                throw .readFailed(file: self.path, object: normalized, reason: HDF5Library.errorStackText())
            }
            defer { H5Gclose(group) }
            var info = H5G_info_t()
            guard H5Gget_info(group, &info) >= 0 else {
                throw .readFailed(file: self.path, object: normalized, reason: HDF5Library.errorStackText())
            }
            return try sortedNames(info.nlinks, of: normalized, "member") { index, buffer, capacity in
                H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, buffer, capacity, kc_h5p_default())
            }
        }
    }

    // MARK: - Internal navigation (caller holds the lock)

    /// Reads a name through HDF5's "call once for the length, again for the bytes" idiom.
    static func readName(_ call: (UnsafeMutablePointer<CChar>?, Int) -> Int) -> String? {
        let length = call(nil, 0)
        guard length >= 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: length + 1)
        let written = buffer.withUnsafeMutableBufferPointer { call($0.baseAddress, $0.count) }
        guard written >= 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The `count` names of the members or attributes (`what`) of the object at `path`, read by
    /// index through `nameAt(index, buffer, capacity)` (`readName`'s idiom), sorted by their
    /// UTF-8 bytes: HDF5's name order, the order h5py lists them. Caller holds the lock.
    func sortedNames(
        _ count: hsize_t, of path: String, _ what: String,
        nameAt: (hsize_t, UnsafeMutablePointer<CChar>?, Int) -> Int
    ) throws(HDF5Error) -> [String] {
        var names: [String] = []
        for index in 0..<count {
            guard let name = HDF5File.readName({ nameAt(index, $0, $1) }) else {
                throw .readFailed(
                    file: self.path, object: path, reason: "\(what) \(index): " + HDF5Library.errorStackText())
            }
            names.append(name)
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The kind of object at the normalized `path`, or `nil` when nothing resolves there
    /// (a missing component, a parent that is not a group, a dangling link).
    func objectKind(_ fid: hid_t, _ path: String) -> HDF5ObjectKind? {
        var prefix = ""
        for component in HDF5Library.components(path) {
            if !prefix.isEmpty, kc_object_type(fid, prefix) != Int32(H5O_TYPE_GROUP.rawValue) {
                return nil
            }
            prefix += "/" + component
            guard H5Lexists(fid, prefix, kc_h5p_default()) > 0 else { return nil }
        }
        let type = kc_object_type(fid, path == "/" ? "/" : prefix)
        switch type {
        case Int32(H5O_TYPE_GROUP.rawValue): return .group
        case Int32(H5O_TYPE_DATASET.rawValue): return .dataset
        case Int32(H5O_TYPE_NAMED_DATATYPE.rawValue): return .namedDatatype
        case ..<0: return nil
        default: return .other
        }
    }

    /// Throws `missingObject` / `notAGroup` / `notADataset` unless `path` is of `kind`.
    func requireKind(_ fid: hid_t, _ path: String, _ kind: HDF5ObjectKind) throws(HDF5Error) {
        guard let found = objectKind(fid, path) else {
            throw .missingObject(file: self.path, object: path)
        }
        guard found == kind else {
            throw kind == .group
                ? .notAGroup(file: self.path, object: path) : .notADataset(file: self.path, object: path)
        }
    }

    /// Creates the group at `path` and its missing parents.
    func ensureGroup(_ fid: hid_t, _ path: String) throws(HDF5Error) {
        var prefix = ""
        for component in HDF5Library.components(path) {
            prefix += "/" + component
            if let kind = objectKind(fid, prefix) {
                guard kind == .group else { throw .notAGroup(file: self.path, object: prefix) }
                continue
            }
            let group = H5Gcreate2(fid, prefix, kc_h5p_default(), kc_h5p_default(), kc_h5p_default())
            guard group >= 0 else {
                throw .writeFailed(file: self.path, object: prefix, reason: HDF5Library.errorStackText())
            }
            H5Gclose(group)
        }
    }
}
