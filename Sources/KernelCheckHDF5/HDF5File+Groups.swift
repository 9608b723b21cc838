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
        return try withFileID { (fid) throws(HDF5Error) -> Bool in try objectKind(fid, normalized) != nil }
    }

    /// Whether the object at `path` is a group or a dataset; throws `missingObject`.
    public func kind(of path: String) throws(HDF5Error) -> HDF5ObjectKind {
        let normalized = HDF5Library.normalize(path)
        return try withFileID { (fid) throws(HDF5Error) -> HDF5ObjectKind in
            guard let kind = try objectKind(fid, normalized) else {
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
            return try sortedNames(of: normalized, "member") { kc_link_names(group, $0) }
        }
    }

    // MARK: - Internal navigation (caller holds the lock)

    /// The names of the members or attributes (`what`) of the object at `path`, collected in
    /// one pass by `collect` (`kc_link_names` or `kc_attribute_names`: one iteration, linear
    /// in the count — not one by-index lookup per name, which libhdf5 answers by rebuilding
    /// the sorted table each time), sorted by their UTF-8 bytes: HDF5's name order, the order
    /// h5py lists them. Caller holds the lock.
    func sortedNames(
        of path: String, _ what: String, collect: (UnsafeMutablePointer<kc_name_list>) -> herr_t
    ) throws(HDF5Error) -> [String] {
        var list = kc_name_list()
        defer { kc_name_list_free(&list) }
        guard collect(&list) >= 0, list.out_of_memory == 0 else {
            throw .readFailed(
                file: self.path, object: path,
                reason: "listing \(what)s: "
                    + (list.out_of_memory != 0 ? "out of memory" : HDF5Library.errorStackText()))
        }
        var names: [String] = []
        names.reserveCapacity(list.count)
        if let bytes = list.bytes {
            let buffer = UnsafeRawBufferPointer(start: bytes, count: list.length)
            var start = 0
            for end in 0..<buffer.count where buffer[end] == 0 {
                names.append(String(decoding: buffer[start..<end], as: UTF8.self))
                start = end + 1
            }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The kind of object at the normalized `path`, or `nil` when nothing resolves there
    /// (a missing component, a parent that is not a group). Every link on the way is checked
    /// before it is followed: an external link throws `externalLink`, a soft link whose
    /// target does not resolve throws `brokenLink` (soft links are resolved here, at most
    /// `maximumSoftLinkDepth` deep, so one into an external link is refused too).
    func objectKind(_ fid: hid_t, _ path: String, softLinkDepth: Int = 0) throws(HDF5Error) -> HDF5ObjectKind? {
        var prefix = ""
        for component in HDF5Library.components(path) {
            if !prefix.isEmpty, kc_object_type(fid, prefix) != Int32(H5O_TYPE_GROUP.rawValue) {
                return nil
            }
            prefix += "/" + component
            guard H5Lexists(fid, prefix, kc_h5p_default()) > 0 else { return nil }
            try checkLink(fid, prefix, softLinkDepth: softLinkDepth)
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

    /// Soft links followed in a row before a path counts as a broken (cyclic) link.
    static let maximumSoftLinkDepth = 16

    /// Throws `externalLink` when the link at `path` leads into another file, `brokenLink`
    /// when it is a soft link whose target does not resolve (or that cycles).
    private func checkLink(_ fid: hid_t, _ path: String, softLinkDepth: Int) throws(HDF5Error) {
        let type = kc_link_type(fid, path)
        let soft = type == Int32(H5L_TYPE_SOFT.rawValue), external = type == Int32(H5L_TYPE_EXTERNAL.rawValue)
        guard soft || external else { return }
        var buffer = [CChar](repeating: 0, count: 1024)
        let target =
            kc_link_target(fid, path, &buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        if external { throw .externalLink(file: self.path, object: path, target: target) }
        let parent = HDF5Library.components(path).dropLast().joined(separator: "/")
        let resolved = HDF5Library.normalize(target.hasPrefix("/") ? target : "/" + parent + "/" + target)
        guard softLinkDepth < Self.maximumSoftLinkDepth,
            try objectKind(fid, resolved, softLinkDepth: softLinkDepth + 1) != nil
        else {
            throw .brokenLink(file: self.path, object: path, target: target)
        }
    }

    /// Throws `missingObject` / `notAGroup` / `notADataset` unless `path` is of `kind`.
    func requireKind(_ fid: hid_t, _ path: String, _ kind: HDF5ObjectKind) throws(HDF5Error) {
        guard let found = try objectKind(fid, path) else {
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
            if let kind = try objectKind(fid, prefix) {
                guard kind == .group else { throw .notAGroup(file: self.path, object: prefix) }
                continue
            }
            let properties = kc_untimed_creation_properties(1)
            defer { H5Pclose(properties) }
            let group = H5Gcreate2(fid, prefix, kc_h5p_default(), properties, kc_h5p_default())
            guard group >= 0 else {
                throw .writeFailed(file: self.path, object: prefix, reason: HDF5Library.errorStackText())
            }
            H5Gclose(group)
        }
    }
}
