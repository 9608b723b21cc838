import KernelCheckCore
import KernelCheckProblems

/// An implementation under test: the reference, the tiled kernels, or your own kernel (a C
/// function, an accelerator kernel called from Swift). Every implementation is checked the
/// same way: it receives Float inputs by role (`x`, `w`, `dy`, …, see each descriptor's
/// `inputs(for:)`) and writes the direction's output into `output`, a buffer of exactly
/// `output(for:).shape` elements surrounded by sentinel guards.
///
/// `threads` is a request: 1 means single-threaded, 0 means all cores. The determinism check
/// runs with 1 and with all threads and requires identical bits.
public protocol KernelImplementation: Sendable {
    var name: String { get }
    /// False where `threads` is ignored (a worker process that says so): the determinism
    /// check then repeats the run but reports the 1-thread comparison as not applicable.
    var honoursThreads: Bool { get }
    func supports(_ problem: Problem, _ direction: Direction) -> Bool
    func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError)
}

extension KernelImplementation {
    public var honoursThreads: Bool { true }

    /// By default an implementation offers every direction of every problem.
    public func supports(_ problem: Problem, _ direction: Direction) -> Bool {
        problem.directions.contains(direction)
    }
}

/// Why an implementation could not run a case (not a numerical mismatch: that is a result).
public enum ImplementationError: InputCheckError, Equatable, CustomStringConvertible, Sendable {
    case unsupported(implementation: String, problem: String, direction: Direction)
    case missingInput(problem: String, direction: Direction, role: String)
    case shapeMismatch(problem: String, role: String, expected: [Int], found: [Int])
    case outputSizeMismatch(problem: String, direction: Direction, expected: Int, found: Int)
    case failed(implementation: String, problem: String, reason: String)
    /// An input that is NaN, ±Inf or not a value of the problem's storage type (`dt`).
    case unrepresentableInput(UnrepresentableInput)

    public var description: String {
        switch self {
        case .unsupported(let i, let p, let d): return "\(i) does not implement \(d.rawValue) of '\(p)'"
        case .missingInput(let p, let d, let r): return "'\(p)' \(d.rawValue): input '\(r)' is missing"
        case .shapeMismatch(let p, let r, let e, let f):
            return "'\(p)': input '\(r)' has shape \(Shape.format(f)), expected \(Shape.format(e))"
        case .outputSizeMismatch(let p, let d, let e, let f):
            return "'\(p)' \(d.rawValue): output buffer holds \(f) elements, expected \(e)"
        case .failed(let i, let p, let r): return "\(i) failed on '\(p)': \(r)"
        case .unrepresentableInput(let e): return e.description
        }
    }
}

extension Problem {
    /// Throws unless an output buffer of `outputCount` elements is exactly `direction`'s output
    /// and `inputs` holds every role the direction reads, with its shape: what an
    /// implementation checks before any kernel (or plug-in) sees the buffers.
    public func checkCase(
        _ direction: Direction, inputs: [String: Tensor<Float>], outputCount: Int
    ) throws(ImplementationError) {
        let expected = Shape.elementCount(descriptor.output(for: direction).shape) ?? -1
        guard outputCount == expected else {
            throw .outputSizeMismatch(
                problem: description, direction: direction, expected: expected, found: outputCount)
        }
        try checkInputs(for: direction, as: ImplementationError.self) { inputs[$0]?.shape }
    }

    /// `checkRepresentable` as an `ImplementationError`: for implementations that hand the
    /// inputs on in their storage type (the plug-ins), where a value `dt` cannot hold would be
    /// silently rounded. (`CaseChecker` checks every case's inputs before any implementation
    /// runs; `KernelIO` does not repeat it, so a benchmark's unrounded fills still run.)
    public func checkInputValues(_ inputs: [String: Tensor<Float>]) throws(ImplementationError) {
        do {
            try checkRepresentable(inputs: inputs)
        } catch {
            throw .unrepresentableInput(error)
        }
    }
}

/// Checked, pointer-stable copies of a case's inputs for kernels that take raw pointers.
///
/// Validates every role against the descriptor before any kernel runs (so a kernel never sees
/// a wrongly sized buffer), copies each input into its own allocation (stable for the call,
/// freed on deinit) and exposes them by role.
///
/// For a problem whose inputs are stored in a narrow type (`dt=bf16`, `f16`, `f8e4m3`,
/// `f8e5m2`) each role is also held in that type's stored form (`stored(_:)`): 16- or 8-bit
/// patterns, for kernels that convert their inputs themselves.
public final class KernelIO {
    private var buffers: [String: UnsafeMutableBufferPointer<Float>] = [:]
    private var storedBuffers: [String: UnsafeMutableRawBufferPointer] = [:]
    public let output: UnsafeMutablePointer<Float>
    /// The problem's number formats (`storage` is the type of `stored(_:)`).
    public let precision: Precision

    public init(
        _ problem: Problem, _ direction: Direction, _ inputs: [String: Tensor<Float>],
        _ output: UnsafeMutableBufferPointer<Float>
    ) throws(ImplementationError) {
        try problem.checkCase(direction, inputs: inputs, outputCount: output.count)
        // A zero-element output still needs a valid (never dereferenced) pointer.
        self.output = output.baseAddress ?? KernelIO.emptyOutput
        precision = problem.descriptor.precision
        for spec in problem.descriptor.inputs(for: direction) {
            let t = inputs[spec.role]!  // checked above
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(t.count, 1))
            _ = buffer.initialize(from: t.storage)
            buffers[spec.role] = buffer
            if precision.storage != .f32 {
                let bytes = precision.storage.encode(t.storage)
                let stored = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
                bytes.withUnsafeBytes { stored.copyMemory(from: $0) }
                storedBuffers[spec.role] = stored
            }
        }
    }

    /// Stand-in address for a zero-element output; kernels never dereference it.
    nonisolated(unsafe) private static let emptyOutput = UnsafeMutablePointer<Float>.allocate(capacity: 1)

    deinit {
        for b in buffers.values { b.deallocate() }
        for b in storedBuffers.values { b.deallocate() }
    }

    /// The input of a role the descriptor declared (validated in `init`).
    public subscript(_ role: String) -> UnsafePointer<Float> { UnsafePointer(buffers[role]!.baseAddress!) }

    /// An input that may be absent (the bias of a problem without one).
    public func optional(_ role: String) -> UnsafePointer<Float>? {
        buffers[role].map { UnsafePointer($0.baseAddress!) }
    }

    /// The input of a role in its storage type's bit patterns (`precision.storage.byteWidth`
    /// bytes per element, little-endian), or `nil` for a float32 problem or an absent role.
    /// The values are the same numbers as `self[role]`: the case's inputs are exactly
    /// representable in the storage type.
    public func stored(_ role: String) -> UnsafeRawPointer? {
        storedBuffers[role].map { UnsafeRawPointer($0.baseAddress!) }
    }
}
