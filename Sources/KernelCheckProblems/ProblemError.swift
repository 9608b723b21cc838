import KernelCheckCore

/// Why a problem descriptor was rejected. Every case names the op and the field at fault.
public enum ProblemError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A field holds a value the op cannot accept (zero stride, groups not dividing channels…).
    case invalidField(op: String, field: String, reason: String)
    /// The text is not a well-formed problem string.
    case malformed(text: String, reason: String)
    /// The tensors of this problem would need more memory than `MemoryBudget.bytes`.
    case exceedsMemoryBudget(op: String, bytes: Int, budget: Int)

    public var description: String {
        switch self {
        case .invalidField(let op, let field, let reason):
            return "\(op): invalid \(MessageText.clip(field)): \(MessageText.clip(reason, limit: 240))"
        case .malformed(let text, let reason):
            return "malformed problem string '\(MessageText.clip(text))': \(MessageText.clip(reason, limit: 240))"
        case .exceedsMemoryBudget(let op, let bytes, let budget):
            return
                "\(op): tensors need \(bytes) bytes, over the memory budget of \(budget) bytes (set KERNELCHECK_MEMORY_BUDGET to raise it)"
        }
    }
}
