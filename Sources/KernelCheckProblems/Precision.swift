import KernelCheckCore

/// The number formats of one problem: the type its inputs are stored in (`dt`), the type its
/// sums are accumulated in (`acc`) and the type its output is stored in (`odt`).
///
/// Canonical text appends only what differs from float32 and from the defaults:
/// `conv2d … bias=1 dt=bf16` (accumulate in f32, output bf16), `matmul … dt=f16 acc=f16`,
/// `linear … dt=f8e4m3 odt=f32`. A string without these keys is float32 throughout, so every
/// problem string written before precisions existed still parses to the same problem.
///
/// Valid combinations:
/// - `dt` any `ScalarType`; it applies to every input role (data, weights, bias, gradients).
/// - `acc=f32` (default) for every `dt`; `acc=f16` only for `dt=f16`, `f8e4m3` or `f8e5m2`
///   (bf16's range is far beyond f16's, and f32 inputs need an f32 accumulator).
/// - `odt` defaults to `dt`; it may be `f32` for any `dt`, or `f16` when `acc=f16`.
///
/// The output key is `odt`, not `out`: `linear` already uses `out=` for its feature count.
/// Ops other than conv, conv_transpose, matmul and linear are float32 only.
public struct Precision: Hashable, Sendable, CustomStringConvertible {
    public var storage: ScalarType
    public var accumulation: ScalarType
    public var output: ScalarType

    public init(storage: ScalarType, accumulation: ScalarType = .f32, output: ScalarType? = nil) {
        self.storage = storage
        self.accumulation = accumulation
        self.output = output ?? storage
    }

    /// Float32 inputs, accumulation and output: every problem's default.
    public static let float32 = Precision(storage: .f32)

    public var isFloat32: Bool { self == .float32 }

    /// The precision fields of the canonical string, each with a leading space; empty for f32.
    public var fieldsDescription: String {
        var text = ""
        if storage != .f32 { text += " dt=\(storage)" }
        if accumulation != .f32 { text += " acc=\(accumulation)" }
        if output != storage { text += " odt=\(output)" }
        return text
    }

    /// `dt=… acc=… odt=…`, always all three (for reports and messages).
    public var description: String { "dt=\(storage) acc=\(accumulation) odt=\(output)" }

    /// Throws `invalidField` naming the first field of an invalid combination.
    public func validate(op: String) throws(ProblemError) {
        switch accumulation {
        case .f32: break
        case .f16:
            try check(
                [.f16, .f8e4m3, .f8e5m2].contains(storage), op, "acc",
                "acc=f16 needs dt=f16, f8e4m3 or f8e5m2 (dt=\(storage) products do not fit an f16 accumulator)")
        default:
            throw .invalidField(
                op: op, field: "acc", reason: "'\(accumulation)' is not an accumulator type (f32 or f16)")
        }
        let outputs: Set<ScalarType> = accumulation == .f16 ? [storage, .f32, .f16] : [storage, .f32]
        try check(
            outputs.contains(output), op, "odt",
            "odt=\(output) with dt=\(storage) acc=\(accumulation); allowed: "
                + ScalarType.allCases.filter(outputs.contains).map(\.rawValue).joined(separator: ", "))
    }
}

extension ProblemFields {
    /// Reads `dt`, `acc` and `odt` (`out=<type>` is accepted for `odt` where `out` is free).
    /// An op without low-precision support (`supported == false`) refuses any non-f32 value,
    /// naming the field.
    public mutating func precision(supported: Bool = true, outputAlias: Bool = true) throws(ProblemError) -> Precision {
        let storage = try scalarType("dt") ?? .f32
        let accumulation = try scalarType("acc") ?? .f32
        var output = try scalarType("odt")
        if outputAlias, let alias = try scalarType("out") {
            guard output == nil else { throw .malformed(text: text, reason: "odt and out both give the output type") }
            output = alias
        }
        let precision = Precision(storage: storage, accumulation: accumulation, output: output)
        if !supported && !precision.isFloat32 {
            let field = storage != .f32 ? "dt" : accumulation != .f32 ? "acc" : "odt"
            throw .invalidField(
                op: op, field: field,
                reason: "\(op) is float32 only; bf16, f16 and fp8 cover conv, conv_transpose, matmul and linear")
        }
        try precision.validate(op: op)
        return precision
    }

    private mutating func scalarType(_ key: String) throws(ProblemError) -> ScalarType? {
        guard let v = raw(key) else { return nil }
        guard let t = ScalarType(rawValue: v) else {
            throw .invalidField(
                op: op, field: key,
                reason: "'\(v)' is not a type; known: \(ScalarType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return t
    }
}
