import KernelCheckCore

/// An input value that is not a number of the problem's storage type (`dt`): a float32 that
/// `dt` cannot hold exactly (`0.1` in a `dt=bf16` case), NaN, or ±Inf (never a valid input).
public struct UnrepresentableInput: Error, Equatable, Sendable, CustomStringConvertible {
    public var problem: String
    public var role: String
    /// Flat (row-major) index of the first offending element of `role`.
    public var index: Int
    public var value: Float
    public var storage: ScalarType

    public init(problem: String, role: String, index: Int, value: Float, storage: ScalarType) {
        self.problem = problem
        self.role = role
        self.index = index
        self.value = value
        self.storage = storage
    }

    public var description: String {
        let what =
            value.isFinite
            ? "\(value) is not a \(storage) value (nearest \(storage.rounded(value)))"
            : "\(value) is not a finite number"
        return "'\(MessageText.clip(problem))': input '\(role)' at flat index \(index): \(what)"
    }
}

extension Problem {
    /// Throws for the first input value, in the descriptor's order of roles (then any other
    /// role, sorted) and row-major order within a role, that is NaN, ±Inf, or not exactly a
    /// value of `descriptor.precision.storage`: every input a kernel receives must be a finite
    /// number of its declared storage type (for f32 problems: any finite float).
    public func checkRepresentable(inputs: [String: Tensor<Float>]) throws(UnrepresentableInput) {
        let storage = descriptor.precision.storage
        var roles: [String] = []
        for direction in directions {
            for spec in descriptor.inputs(for: direction) where !roles.contains(spec.role) { roles.append(spec.role) }
        }
        roles += inputs.keys.filter { !roles.contains($0) }.sorted()
        for role in roles {
            guard let t = inputs[role] else { continue }
            for (i, v) in t.storage.enumerated() where !v.isFinite || !storage.represents(v) {
                throw UnrepresentableInput(problem: description, role: role, index: i, value: v, storage: storage)
            }
        }
    }
}
