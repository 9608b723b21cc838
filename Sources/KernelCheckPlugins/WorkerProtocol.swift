import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckVerification

/// The messages of the worker protocol, version 1 (`docs/worker-protocol.md`): JSON lines,
/// each request followed by the raw little-endian float32 inputs, each `ok` answer by the raw
/// output.
enum WorkerProtocol {
    static let version = 1

    /// The first line the harness writes.
    static let hello = Array("{\"kernelcheck_protocol\":1}\n".utf8)

    /// The worker's answer to `hello`.
    struct Handshake: Decodable {
        var kernelcheck_protocol: Int
        var name: String
        /// Whether the worker runs with the requested `threads`; false turns the
        /// thread-count half of the determinism check into a note.
        var honours_threads: Bool
        /// Op name (first token of a problem string) → the directions offered; absent: every
        /// op and direction (the worker answers `unsupported` per case instead).
        var supports: [String: [String]]?
        /// Whether the worker takes the inputs of a narrow-typed problem (`dt=bf16`, `f16`,
        /// `f8e4m3`, `f8e5m2`) in their stored form: each input's header then names its
        /// `dtype` and its bytes are that type's little-endian bit patterns (2 or 1 bytes per
        /// element). Absent or false (every protocol-1 worker before this field): float32
        /// inputs, whose values are exactly the same numbers.
        var stored_inputs: Bool?
    }

    struct TensorHeader: Encodable {
        var role: String
        var shape: [Int]
        var bytes: Int
        /// The element type when it is not float32 (stored inputs only; omitted otherwise).
        var dtype: String? = nil
    }

    /// One case: this line, then each input's bytes in the listed order.
    struct Request: Encodable {
        var id: Int
        var problem: String
        var direction: String
        var threads: Int
        var inputs: [TensorHeader]
        var output: TensorHeader
    }

    /// The worker's answer: `ok` followed by exactly `bytes` bytes of output, or
    /// `unsupported` / `error` with a message and no bytes.
    struct Status: Decodable {
        var id: Int
        var status: String
        var message: String?
        var bytes: Int?
    }

    /// The longest answer line the harness reads before calling the worker broken.
    static let maxLineLength = 1 << 16

    /// The request line (newline-terminated) and the inputs it announces, as one buffer.
    ///
    /// With `storedInputs` and a narrow storage type the inputs go as `dtype` bit patterns
    /// (`ScalarType.encode`): the values are already numbers of that type, so nothing rounds.
    static func encode(
        id: Int, problem: Problem, direction: Direction, threads: Int, inputs: [String: Tensor<Float>],
        storedInputs: Bool = false
    ) throws(ImplementationError) -> [UInt8] {
        let d = problem.descriptor
        let storage = d.precision.storage
        let stored = storedInputs && storage != .f32
        var tensors: [Tensor<Float>] = []
        var headers: [TensorHeader] = []
        for spec in d.inputs(for: direction) {
            guard let t = inputs[spec.role] else {
                throw .missingInput(problem: problem.description, direction: direction, role: spec.role)
            }
            guard t.shape == spec.shape else {
                throw .shapeMismatch(
                    problem: problem.description, role: spec.role, expected: spec.shape, found: t.shape)
            }
            tensors.append(t)
            headers.append(
                TensorHeader(
                    role: spec.role, shape: spec.shape, bytes: t.count * (stored ? storage.byteWidth : 4),
                    dtype: stored ? storage.rawValue : nil))
        }
        let out = d.output(for: direction)
        let request = Request(
            id: id, problem: problem.description, direction: direction.rawValue, threads: threads, inputs: headers,
            output: TensorHeader(role: out.role, shape: out.shape, bytes: (Shape.elementCount(out.shape) ?? 0) * 4))
        // Encoding plain strings and integers cannot fail.
        var bytes = [UInt8]((try? JSONEncoder().encode(request)) ?? Data())
        bytes.append(UInt8(ascii: "\n"))
        for t in tensors {
            // The wire format is little-endian; so is every platform this package builds on.
            if stored {
                bytes.append(contentsOf: storage.encode(t.storage))
            } else {
                t.storage.withUnsafeBytes { bytes.append(contentsOf: $0) }
            }
        }
        return bytes
    }

    /// The handshake line decoded; a protocol violation saying why it is not one.
    static func decodeHandshake(_ line: [UInt8]) throws(WorkerFault) -> Handshake {
        guard let h = try? JSONDecoder().decode(Handshake.self, from: Data(line)) else {
            throw .protocolViolation(
                "expected a JSON line {\"kernelcheck_protocol\":1,\"name\":…,\"honours_threads\":…}, got \(quoted(line))"
            )
        }
        guard h.kernelcheck_protocol == version else {
            throw .protocolViolation(
                "the worker speaks protocol \(h.kernelcheck_protocol); this harness speaks \(version)")
        }
        for (op, directions) in h.supports ?? [:] {
            if let bad = directions.first(where: { Direction(rawValue: $0) == nil }) {
                throw .protocolViolation("supports.\(op) names an unknown direction '\(bad)'")
            }
        }
        return h
    }

    /// A status line decoded; a protocol violation saying why it is not one.
    static func decodeStatus(_ line: [UInt8]) throws(WorkerFault) -> Status {
        guard let s = try? JSONDecoder().decode(Status.self, from: Data(line)),
            ["ok", "unsupported", "error"].contains(s.status)
        else {
            throw .protocolViolation(
                "expected a JSON status line {\"id\":…,\"status\":\"ok\"|\"unsupported\"|\"error\",…}, got \(quoted(line))"
            )
        }
        return s
    }

    /// At most 80 characters of a line the worker wrote, quoted, for messages.
    static func quoted(_ line: [UInt8]) -> String {
        let text = String(decoding: line.prefix(80), as: UTF8.self)
        let visible = text.unicodeScalars.map { $0.value < 0x20 || $0 == "\u{7f}" ? "?" : String($0) }.joined()
        return "'\(visible)\(line.count > 80 ? "…" : "")'"
    }
}
