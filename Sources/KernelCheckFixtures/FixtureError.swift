import KernelCheckCore
import KernelCheckHDF5
import KernelCheckProblems

/// Why a fixture file, manifest or oracle run was rejected. Every case names the file and,
/// where one is involved, the case group and the field, so one line in a CI log points at
/// what to fix.
public enum FixtureError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The HDF5 layer failed (missing, truncated or non-HDF5 file, missing object, …).
    case hdf5(HDF5Error)
    /// A manifest line could not be parsed.
    case manifest(file: String, line: Int, reason: String)
    /// A required attribute is absent.
    case missingAttribute(file: String, group: String, attribute: String)
    /// An attribute has the wrong kind (e.g. `seed` stored as a string).
    case badAttribute(file: String, group: String, attribute: String, reason: String)
    /// `schema_version` is not one this build reads.
    case unknownSchemaVersion(file: String, group: String, found: Int64, supported: Int64)
    /// The `problem` attribute is not a valid problem string.
    case badProblem(file: String, group: String, reason: String)
    /// A dataset the problem's directions need is absent.
    case missingDataset(file: String, group: String, role: String)
    /// A dataset is stored with another element type than the schema prescribes.
    case wrongDataType(file: String, group: String, role: String, expected: String, found: String)
    /// A dataset's shape is not the one the problem implies.
    case wrongShape(file: String, group: String, role: String, expected: [Int], found: [Int])
    /// An input or expected value is NaN or infinite.
    case nonFinite(file: String, group: String, role: String, index: Int, value: Double)
    /// An input dataset of a narrow-typed case holds a value that is not a number of the
    /// case's input type `type` (a float32 that is not a bf16 number); `stored`: its type.
    case unrepresentable(
        file: String, group: String, role: String, stored: String, type: String, index: Int, value: Double,
        expected: String)
    /// A bit-pattern input decodes to NaN or ±Inf (`0x7F` is NaN in f8e4m3).
    case nonFinitePattern(file: String, group: String, role: String, index: Int, type: String, pattern: UInt32)
    /// The case lists no direction with expected values.
    case noExpectedValues(file: String, group: String)
    /// The `directions` attribute names an unknown direction or one the problem lacks.
    case badDirection(file: String, group: String, direction: String)
    /// The `directions` attribute lists a direction twice.
    case repeatedDirection(file: String, group: String, direction: String)
    /// The case group's name is not the text of its `problem` attribute (the schema requires
    /// the same text, so a file cannot run one op under another's name).
    case groupNameMismatch(file: String, group: String, problem: String)
    /// Two case groups hold the same problem (`problem`: canonical form).
    case duplicateProblem(file: String, problem: String, groups: [String])
    /// The file holds no case at all.
    case emptyFile(file: String)
    /// The oracle subprocess could not run or reported an error.
    case oracle(reason: String)

    public var description: String {
        switch self {
        case .hdf5(let e): return e.description
        case .manifest(let f, let l, let r): return "\(f):\(l): \(r)"
        case .missingAttribute(let f, let g, let a):
            return "\(f): case '\(MessageText.clip(g))': missing attribute '\(a)'"
        case .badAttribute(let f, let g, let a, let r):
            return "\(f): case '\(MessageText.clip(g))': attribute '\(a)': \(r)"
        case .unknownSchemaVersion(let f, let g, let v, let s):
            return
                "\(f): case '\(MessageText.clip(g))': schema_version \(v) is not supported (this build reads version \(s))"
        case .badProblem(let f, let g, let r): return "\(f): case '\(MessageText.clip(g))': attribute 'problem': \(r)"
        case .missingDataset(let f, let g, let r): return "\(f): case '\(MessageText.clip(g))': missing dataset '\(r)'"
        case .wrongDataType(let f, let g, let r, let e, let found):
            return "\(f): case '\(MessageText.clip(g))': dataset '\(r)' is \(found), the schema requires \(e)"
        case .wrongShape(let f, let g, let r, let e, let found):
            return
                "\(f): case '\(MessageText.clip(g))': dataset '\(r)' has shape \(Shape.format(found)), the problem implies \(Shape.format(e))"
        case .nonFinite(let f, let g, let r, let i, let v):
            return
                "\(f): case '\(MessageText.clip(g))': dataset '\(r)' holds \(v) at flat index \(i); fixtures must be finite"
        case .unrepresentable(let f, let g, let r, let stored, let type, let i, let v, let e):
            return
                "\(f): case '\(MessageText.clip(g))': dataset '\(r)' (\(stored)) holds \(v) at flat index \(i), which is not a \(type) number;"
                + " the schema requires \(e)"
        case .nonFinitePattern(let f, let g, let r, let i, let type, let bits):
            let hex = String(bits, radix: 16, uppercase: true)
            let v = ScalarType(rawValue: type).map { "\($0.decode(bits))" } ?? "not finite"
            return
                "\(f): case '\(MessageText.clip(g))': dataset '\(r)' holds bit pattern 0x\(hex) at flat index \(i), which is \(v) in \(type);"
                + " fixtures must be finite"
        case .noExpectedValues(let f, let g):
            return "\(f): case '\(MessageText.clip(g))': no expected values (attribute 'directions' is empty)"
        case .badDirection(let f, let g, let d):
            return "\(f): case '\(MessageText.clip(g))': direction '\(d)' is unknown or not offered by the problem"
        case .repeatedDirection(let f, let g, let d):
            return "\(f): case '\(MessageText.clip(g))': attribute 'directions' lists '\(d)' more than once"
        case .groupNameMismatch(let f, let g, let p):
            return
                "\(f): case '\(MessageText.clip(g))': the group name differs from its problem attribute '\(MessageText.clip(p))'"
                + " (the schema requires the same text)"
        case .duplicateProblem(let f, let p, let groups):
            return "\(f): problem '\(MessageText.clip(p))' appears in more than one case group: "
                + groups.map { "'\(MessageText.clip($0))'" }.joined(separator: ", ")
        case .emptyFile(let f): return "\(f): holds no fixture case"
        case .oracle(let r): return "oracle: \(r)"
        }
    }
}
