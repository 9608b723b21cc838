import KernelCheckCore

/// Every failure of the HDF5 layer. Each case names the file and, where one is involved, the
/// object path inside it (`/group/dataset`), so a message read in a CI log points straight at
/// the offending field. `reason` texts carry HDF5's own error stack where it says something
/// useful (for example "truncated file: eof = 1024, sblock->base_addr = 0, stored_eof = 2048").
public enum HDF5Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// No file exists at the path.
    case fileNotFound(file: String)
    /// The file exists but does not start with an HDF5 signature.
    case notHDF5(file: String)
    /// The file could not be opened (truncated, locked, unreadable, already open in another mode).
    case cannotOpen(file: String, reason: String)
    /// The file could not be created (missing directory, no permission).
    case cannotCreate(file: String, reason: String)
    /// The file was used after `close()`.
    case fileClosed(file: String)
    /// No object (group or dataset) exists at the object path.
    case missingObject(file: String, object: String)
    /// An object exists where a new one was to be created.
    case alreadyExists(file: String, object: String)
    /// The object exists but is not a group (a group was needed, e.g. to list members).
    case notAGroup(file: String, object: String)
    /// The object exists but is not a dataset.
    case notADataset(file: String, object: String)
    /// The object has no attribute of that name.
    case missingAttribute(file: String, object: String, attribute: String)
    /// The stored element type cannot be read as the requested one (a string dataset read as
    /// numbers, float data read as `Int64`, a compound type, …).
    case unsupportedType(file: String, object: String, requested: String, found: String)
    /// An attribute's stored type or rank does not match what was requested.
    case unsupportedAttributeType(file: String, object: String, attribute: String, requested: String, found: String)
    /// The stored shape differs from the shape the caller expected.
    case shapeMismatch(file: String, object: String, expected: [Int], found: [Int])
    /// A write was given a shape whose element count differs from the number of values, or a
    /// shape with a negative dimension.
    case invalidShape(file: String, object: String, shape: [Int], valueCount: Int)
    /// Reading the object would allocate more than `MemoryBudget.bytes` (a corrupt or
    /// hostile file can declare any extent; this stops it before the allocation).
    case exceedsMemoryBudget(file: String, object: String, shape: [Int], bytes: Int, budget: Int)
    /// The object is an external link (`target`: "file:/object"). KernelCheck reads one file
    /// at a time and never follows a link into another file no probe has read.
    case externalLink(file: String, object: String, target: String)
    /// The object is a soft link whose target (`target`) does not exist: a broken link, not a
    /// missing object.
    case brokenLink(file: String, object: String, target: String)
    /// The dataset keeps its values outside the file (external raw storage or a virtual
    /// dataset; `reason` says which), so reading it would read other files.
    case externalStorage(file: String, object: String, reason: String)
    /// HDF5 reported a failure while reading.
    /// The dataset's values pass through an HDF5 filter (a compressor such as Blosc or LZF,
    /// by its registered id) that this libhdf5 does not have.
    case unavailableFilter(file: String, object: String, filter: Int)
    case readFailed(file: String, object: String, reason: String)
    /// HDF5 reported a failure while writing (or creating the object).
    case writeFailed(file: String, object: String, reason: String)

    /// The file every case names.
    public var file: String {
        switch self {
        case .fileNotFound(let f), .notHDF5(let f), .cannotOpen(let f, _), .cannotCreate(let f, _),
            .fileClosed(let f), .missingObject(let f, _), .alreadyExists(let f, _),
            .notAGroup(let f, _), .notADataset(let f, _), .missingAttribute(let f, _, _),
            .unsupportedType(let f, _, _, _), .unsupportedAttributeType(let f, _, _, _, _),
            .shapeMismatch(let f, _, _, _), .invalidShape(let f, _, _, _),
            .exceedsMemoryBudget(let f, _, _, _, _), .readFailed(let f, _, _), .writeFailed(let f, _, _),
            .externalLink(let f, _, _), .brokenLink(let f, _, _), .externalStorage(let f, _, _),
            .unavailableFilter(let f, _, _):
            return f
        }
    }

    /// The object path inside the file, or `nil` for errors about the file as a whole.
    public var object: String? {
        switch self {
        case .fileNotFound, .notHDF5, .cannotOpen, .cannotCreate, .fileClosed:
            return nil
        case .missingObject(_, let o), .alreadyExists(_, let o), .notAGroup(_, let o),
            .notADataset(_, let o), .missingAttribute(_, let o, _), .unsupportedType(_, let o, _, _),
            .unsupportedAttributeType(_, let o, _, _, _), .shapeMismatch(_, let o, _, _),
            .invalidShape(_, let o, _, _), .exceedsMemoryBudget(_, let o, _, _, _), .readFailed(_, let o, _),
            .writeFailed(_, let o, _), .externalLink(_, let o, _), .brokenLink(_, let o, _),
            .externalStorage(_, let o, _), .unavailableFilter(_, let o, _):
            return o
        }
    }

    /// One line naming the file, the object and what went wrong.
    public var description: String {
        switch self {
        case .fileNotFound(let f):
            return "\(f): no such file"
        case .notHDF5(let f):
            return "\(f): not an HDF5 file (no HDF5 signature)"
        case .cannotOpen(let f, let r):
            return "\(f): cannot open HDF5 file: \(r)"
        case .cannotCreate(let f, let r):
            return "\(f): cannot create HDF5 file: \(r)"
        case .fileClosed(let f):
            return "\(f): HDF5 file used after close()"
        case .missingObject(let f, let o):
            return "\(f): no object at \(o)"
        case .alreadyExists(let f, let o):
            return "\(f): an object already exists at \(o)"
        case .notAGroup(let f, let o):
            return "\(f): \(o) is not a group"
        case .notADataset(let f, let o):
            return "\(f): \(o) is not a dataset"
        case .missingAttribute(let f, let o, let a):
            return "\(f): \(o) has no attribute '\(a)'"
        case .unsupportedType(let f, let o, let req, let found):
            return "\(f): \(o) holds \(found), cannot read it as \(req)"
        case .unsupportedAttributeType(let f, let o, let a, let req, let found):
            return "\(f): attribute '\(a)' of \(o) holds \(found), cannot read it as \(req)"
        case .shapeMismatch(let f, let o, let e, let found):
            return "\(f): \(o) has shape \(Shape.format(found)), expected \(Shape.format(e))"
        case .invalidShape(let f, let o, let s, let n):
            return "\(f): cannot write \(n) values to \(o) with shape \(Shape.format(s))"
                + " (\(Shape.elementCount(s).map { "\($0) elements" } ?? "invalid shape"))"
        case .exceedsMemoryBudget(let f, let o, let s, let bytes, let budget):
            return "\(f): \(o) has shape \(Shape.format(s)) needing \(bytes) bytes, over the memory budget of"
                + " \(budget) bytes (KERNELCHECK_MEMORY_BUDGET)"
        case .externalLink(let f, let o, let t):
            return "\(f): \(o) is an external link to '\(t)'; refused (only objects inside the file are read)"
        case .brokenLink(let f, let o, let t):
            return "\(f): \(o) is a broken link (its target '\(t)' does not exist)"
        case .externalStorage(let f, let o, let r):
            return "\(f): dataset \(o) keeps its values outside the file (\(r)); refused"
        case .unavailableFilter(let f, let o, let id):
            return "\(f): dataset \(o) is compressed with HDF5 filter \(id), which this libhdf5 does not have"
                + " (store fixtures uncompressed, or with gzip/deflate, shuffle or fletcher32)"
        case .readFailed(let f, let o, let r):
            return "\(f): reading \(o) failed: \(r)"
        case .writeFailed(let f, let o, let r):
            return "\(f): writing \(o) failed: \(r)"
        }
    }
}
