/// A group inside an open file, addressed by its absolute path; a thin convenience over the
/// path-based methods of `HDF5File` (member names are resolved relative to the group, a name
/// starting with "/" is absolute). Holding a group keeps its file alive; no HDF5 handle stays
/// open between calls.
public struct HDF5Group: Sendable {
    /// The file the group lives in.
    public let file: HDF5File
    /// Normalized absolute path of the group ("/" for the root).
    public let path: String

    /// Absolute path of member `name` of this group.
    public func childPath(_ name: String) -> String { HDF5Library.join(path, name) }

    /// Creates the subgroup `name` (and missing intermediate groups); see `HDF5File.createGroup`.
    @discardableResult
    public func createGroup(_ name: String) throws(HDF5Error) -> HDF5Group {
        try file.createGroup(childPath(name))
    }

    /// The existing subgroup `name`; throws `missingObject` or `notAGroup`.
    public func group(_ name: String) throws(HDF5Error) -> HDF5Group {
        try file.group(childPath(name))
    }

    /// Member names of this group, sorted by UTF-8 bytes (HDF5's and h5py's name order).
    public func memberNames() throws(HDF5Error) -> [String] {
        try file.memberNames(ofGroup: path)
    }

    /// Whether member `name` (or a nested path below this group) exists.
    public func contains(_ name: String) throws(HDF5Error) -> Bool {
        try file.exists(childPath(name))
    }

    /// Whether member `name` is a group or a dataset; throws `missingObject`.
    public func kind(of name: String) throws(HDF5Error) -> HDF5ObjectKind {
        try file.kind(of: childPath(name))
    }

    /// Writes the dataset `name` of this group; see `HDF5File.write(_:shape:to:)`.
    public func write<T: HDF5Scalar>(_ values: [T], shape: [Int], to name: String) throws(HDF5Error) {
        try file.write(values, shape: shape, to: childPath(name))
    }

    /// Stored type and shape of dataset `name`; see `HDF5File.datasetInfo(_:)`.
    public func datasetInfo(_ name: String) throws(HDF5Error) -> HDF5DatasetInfo {
        try file.datasetInfo(childPath(name))
    }

    /// Reads dataset `name` as `T`; see `HDF5File.read(_:as:expectedShape:)`.
    public func read<T: HDF5Scalar>(
        _ name: String, as type: T.Type, expectedShape: [Int]? = nil
    ) throws(HDF5Error) -> HDF5Array<T> {
        try file.read(childPath(name), as: type, expectedShape: expectedShape)
    }

    /// Sets attribute `name` on this group.
    public func setAttribute(_ name: String, _ value: HDF5AttributeValue) throws(HDF5Error) {
        try file.setAttribute(name, value, on: path)
    }

    /// Reads attribute `name` of this group.
    public func attribute(_ name: String) throws(HDF5Error) -> HDF5AttributeValue {
        try file.attribute(name, of: path)
    }

    /// Attribute names of this group, sorted by UTF-8 bytes.
    public func attributeNames() throws(HDF5Error) -> [String] {
        try file.attributeNames(of: path)
    }
}
