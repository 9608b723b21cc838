import KernelCheckCore
import KernelCheckProblems

/// The arguments of one `kernelcheck_run` call in the C layout of `include/kernelcheck.h`,
/// owned by this object and freed when it goes away (after the call: the library may not
/// keep pointers).
///
/// - Every input is copied into its own 64-byte-aligned allocation (`Tensor` storage is a Swift
///   array, aligned to 16 bytes at best); the header promises 64.
/// - `kernelcheck_tensor` is `{ const char *role; const float *data; size_t rank; const int64_t
///   *shape; }` and `kernelcheck_output` is `{ const char *role; float *data; size_t count;
///   size_t rank; const int64_t *shape; }`: on the LP64 platforms Swift runs on every field is
///   one 8-byte word with no padding, so the structs are written as arrays of words.
final class SharedLibraryArguments {
    static let alignment = 64
    private static let word = MemoryLayout<UInt>.stride

    /// `input_count` `kernelcheck_tensor`s, in the order the descriptor lists the roles.
    let inputs: UnsafeMutableRawPointer
    let inputCount: Int
    /// One `kernelcheck_output`.
    let output: UnsafeMutableRawPointer
    /// With `stored`: `input_count` pointers, each to an input's bit patterns in the problem's
    /// storage type (the `stored` argument of `kernelcheck_run_stored`); nil otherwise.
    private(set) var stored: UnsafeMutableRawPointer?
    private var allocations: [UnsafeMutableRawPointer] = []

    /// Lays out the direction's inputs (already checked against the descriptor by the caller)
    /// and the output `data` of the direction's output shape.
    /// With `stored` (and a narrow storage type) each input is also laid out as its bit patterns.
    init(
        _ problem: Problem, _ direction: Direction, inputs tensors: [String: Tensor<Float>],
        output data: UnsafeMutablePointer<Float>, stored withStored: Bool = false
    ) {
        let descriptor = problem.descriptor
        let specs = descriptor.inputs(for: direction)
        inputCount = specs.count
        inputs = UnsafeMutableRawPointer.allocate(byteCount: max(specs.count, 1) * 4 * Self.word, alignment: 8)
        output = UnsafeMutableRawPointer.allocate(byteCount: 5 * Self.word, alignment: 8)
        allocations = [inputs, output]
        if withStored && descriptor.precision.storage != .f32 {
            stored = allocate(max(specs.count, 1) * Self.word)
        }
        for (index, spec) in specs.enumerated() {
            let storage = tensors[spec.role]!.storage  // checked by the caller
            let copy = allocate(max(storage.count, 1) * MemoryLayout<Float>.stride)
            storage.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            if let stored {
                let bits = descriptor.precision.storage.encode(storage)
                let narrow = allocate(bits.count)
                bits.withUnsafeBytes { narrow.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                stored.storeBytes(of: address(narrow), toByteOffset: index * Self.word, as: UInt.self)
            }
            store(
                [address(string(spec.role)), address(copy), UInt(spec.shape.count), address(shape(spec.shape))],
                at: inputs + index * 4 * Self.word)
        }
        let out = descriptor.output(for: direction)
        store(
            [
                address(string(out.role)), address(data), UInt(Shape.elementCount(out.shape) ?? 0),
                UInt(out.shape.count), address(shape(out.shape)),
            ],
            at: output)
    }

    deinit { for a in allocations { a.deallocate() } }

    /// Whether `pointer` meets the header's alignment promise.
    static func isAligned(_ pointer: UnsafeMutablePointer<Float>) -> Bool {
        Int(bitPattern: pointer) % alignment == 0
    }

    private func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: Self.alignment)
        allocations.append(p)
        return p
    }

    /// A NUL-terminated copy of `text`.
    private func string(_ text: String) -> UnsafeMutableRawPointer {
        let bytes = Array(text.utf8) + [0]
        let p = allocate(bytes.count)
        p.copyMemory(from: bytes, byteCount: bytes.count)
        return p
    }

    /// The sizes of `shape` as `int64_t`s.
    private func shape(_ shape: [Int]) -> UnsafeMutableRawPointer {
        let p = allocate(shape.count * 8)
        for (i, size) in shape.enumerated() { p.storeBytes(of: Int64(size), toByteOffset: i * 8, as: Int64.self) }
        return p
    }

    /// A pointer field's word.
    private func address(_ pointer: UnsafeRawPointer) -> UInt { UInt(bitPattern: pointer) }

    /// Stores one word per field (a pointer or a `size_t`) from `base` on.
    private func store(_ fields: [UInt], at base: UnsafeMutableRawPointer) {
        for (i, field) in fields.enumerated() { base.storeBytes(of: field, toByteOffset: i * Self.word, as: UInt.self) }
    }
}
