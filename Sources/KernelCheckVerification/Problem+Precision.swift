import KernelCheckCore
import KernelCheckProblems

extension OpFamily {
    /// The families whose problems take a `Precision` other than float32 (conv, transposed
    /// conv, matmul, linear); the others are float32 only.
    public var acceptsLowPrecision: Bool { [.conv, .convTranspose, .matmul, .linear].contains(self) }
}

extension Problem {
    /// The same problem in `precision`, or `nil` where the op is float32 only (and `precision`
    /// is not) or the combination is invalid (`Precision.validate`).
    public func with(precision: Precision) -> Problem? {
        let result: Problem
        switch self {
        case .conv(var p): p.precision = precision; result = .conv(p)
        case .convTranspose(var p): p.precision = precision; result = .convTranspose(p)
        case .matmul(var p): p.precision = precision; result = .matmul(p)
        case .linear(var p): p.precision = precision; result = .linear(p)
        default: return precision.isFloat32 ? self : nil
        }
        return try? Problem(result.descriptor)
    }
}

extension Precision {
    /// The precisions a `--dtype` list names: `f32`, one or more storage types, or `all` (every
    /// type), each with accumulation `accumulation` (`f32` or `f16`) and output `output`
    /// (`nil`: the storage type; `f32`; `f16` with an f16 accumulator). With `acc=f16`, `all`
    /// means the types that allow it (f16, f8e4m3, f8e5m2); naming one that does not (bf16,
    /// f32) is an error, as is an output the combination refuses. Throws `ProblemError`
    /// naming the field (`dtype`, `acc`, `odt`).
    public static func list(
        dtypes: [String], accumulation: ScalarType = .f32, output: ScalarType? = nil
    ) throws(ProblemError) -> [Precision] {
        var storages: [ScalarType] = []
        for text in dtypes.isEmpty ? ["f32"] : dtypes {
            for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
                if item == "all" {
                    storages += ScalarType.allCases.filter {
                        accumulation == .f32 || Precision(storage: $0, accumulation: accumulation).isValid
                    }
                } else if let t = ScalarType(rawValue: item) {
                    storages.append(t)
                } else {
                    throw .invalidField(
                        op: "check", field: "dtype",
                        reason: "'\(item)' is not a type; known: all, "
                            + ScalarType.allCases.map(\.rawValue).joined(separator: ", "))
                }
            }
        }
        var out: [Precision] = []
        for s in storages {
            let p = Precision(storage: s, accumulation: accumulation, output: output)
            try p.validate(op: "check")
            if !out.contains(p) { out.append(p) }
        }
        return out
    }

    var isValid: Bool { (try? validate(op: "")) != nil }
}
