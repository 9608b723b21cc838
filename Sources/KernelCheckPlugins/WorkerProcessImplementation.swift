import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckVerification

/// A kernel behind a worker process that speaks the protocol of `docs/worker-protocol.md`
/// (`exec:COMMAND`).
///
/// `COMMAND` is started once with `/bin/sh -c` and kept running; each case is one request
/// line plus the inputs, answered by one status line plus the output. A worker that exits,
/// is killed, hangs past the timeout, or breaks the protocol (garbage, a mismatched id, the
/// wrong number of bytes) fails that case with an `ImplementationError` naming the problem;
/// the worker is killed and the next case starts a fresh one. Calls are serialized, so the
/// checker may call `run` from several threads.
public struct WorkerProcessImplementation: KernelImplementation {
    /// `exec:COMMAND`, exactly as given, so replay lines reproduce it.
    public let name: String
    /// The name the worker gave in its handshake.
    public let workerName: String
    /// False when the worker said it ignores the requested thread count.
    public let honoursThreads: Bool
    /// Seconds a case (and the handshake) may take.
    public let timeout: Double
    private let supported: [String: Set<Direction>]?
    private let session: WorkerSession

    /// Environment variable that sets the per-case timeout in seconds (default 60).
    public static let timeoutVariable = "KERNELCHECK_WORKER_TIMEOUT"
    public static let defaultTimeout = 60.0

    /// Starts `command` and performs the handshake. `timeout` (seconds) overrides
    /// `KERNELCHECK_WORKER_TIMEOUT`. Throws when the command is empty, the timeout is not a
    /// positive number, or the worker does not complete the handshake.
    public init(command: String, timeout: Double? = nil) throws(PluginError) {
        guard !command.isEmpty else { throw .emptyName(prefix: "exec:") }
        name = "exec:" + command
        if let timeout {
            self.timeout = timeout
        } else if let text = ProcessInfo.processInfo.environment[Self.timeoutVariable] {
            guard let value = Double(text), value > 0, value.isFinite else {
                throw .badWorkerTimeout(variable: Self.timeoutVariable, value: text)
            }
            self.timeout = value
        } else {
            self.timeout = Self.defaultTimeout
        }
        session = WorkerSession(command: command, timeout: self.timeout)
        let handshake: WorkerProtocol.Handshake
        do {
            handshake = try session.start()
        } catch {
            throw .workerHandshakeFailed(command: command, reason: error.description)
        }
        workerName = handshake.name
        honoursThreads = handshake.honours_threads
        supported = handshake.supports.map { $0.mapValues { Set($0.compactMap(Direction.init(rawValue:))) } }
    }

    /// The directions the handshake declared for the problem's op (all, without a table).
    public func supports(_ problem: Problem, _ direction: Direction) -> Bool {
        guard problem.directions.contains(direction) else { return false }
        guard let supported else { return true }
        return supported[problem.descriptor.opName]?.contains(direction) ?? false
    }

    public func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        try problem.checkCase(direction, inputs: inputs, outputCount: output.count)
        try problem.checkInputValues(inputs)
        let answer = try session.run(problem, direction, inputs: inputs, output: output, threads: threads)
        switch answer {
        case .ok: return
        case .unsupported:
            throw .unsupported(implementation: name, problem: problem.description, direction: direction)
        case .error(let message):
            throw .failed(implementation: name, problem: problem.description, reason: "worker reported: \(message)")
        case .fault(let fault):
            throw .failed(
                implementation: name, problem: problem.description,
                reason: "\(direction.rawValue): \(fault) (the next case starts a fresh worker)")
        }
    }
}

/// The running worker behind a `WorkerProcessImplementation`, restarted after a fault; one
/// lock serializes every exchange.
final class WorkerSession: @unchecked Sendable {
    enum Answer {
        case ok, unsupported
        case error(String)
        case fault(WorkerFault)
    }

    let command: String
    let timeout: Double
    private let lock = NSLock()
    private var worker: WorkerProcess?
    private var nextID = 1
    /// The last handshake's `stored_inputs`: narrow-typed inputs go as their bit patterns.
    private var storedInputs = false

    init(command: String, timeout: Double) {
        self.command = command
        self.timeout = timeout
    }

    /// Starts a worker and returns its handshake.
    func start() throws(WorkerFault) -> WorkerProtocol.Handshake {
        lock.lock()
        defer { lock.unlock() }
        return try startLocked()
    }

    private func startLocked() throws(WorkerFault) -> WorkerProtocol.Handshake {
        worker?.terminate()
        worker = nil
        let w = try WorkerProcess(command: command)
        do throws(WorkerFault) {
            let line = try w.exchange(
                WorkerProtocol.hello, deadline: Deadline(seconds: timeout), waitingFor: "the handshake")
            let handshake = try WorkerProtocol.decodeHandshake(line)
            worker = w
            storedInputs = handshake.stored_inputs ?? false
            return handshake
        } catch {
            w.terminate()
            throw error
        }
    }

    /// Runs one case on the current worker (a fresh one where the last one failed).
    func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) -> Answer {
        lock.lock()
        defer { lock.unlock() }
        let id = nextID
        nextID += 1
        let request = try WorkerProtocol.encode(
            id: id, problem: problem, direction: direction, threads: threads, inputs: inputs,
            storedInputs: storedInputs)
        do throws(WorkerFault) {
            // A worker that exited between cases, or left bytes after its last answer (the
            // stream is out of step), is replaced before the request is sent.
            if worker == nil || worker!.unexpectedBytes() > 0 || worker!.hasExited() {
                do throws(WorkerFault) {
                    _ = try startLocked()
                } catch {
                    throw WorkerFault.cannotStart("a fresh worker failed its handshake: \(error)")
                }
            }
            return try exchange(worker!, id: id, request: request, output: UnsafeMutableRawBufferPointer(output))
        } catch {
            worker?.terminate()
            worker = nil
            return .fault(error)
        }
    }

    private func exchange(
        _ w: WorkerProcess, id: Int, request: [UInt8], output: UnsafeMutableRawBufferPointer
    ) throws(WorkerFault) -> Answer {
        let deadline = Deadline(seconds: timeout)
        let line = try w.exchange(request, deadline: deadline, waitingFor: "the answer to request \(id)")
        let status = try WorkerProtocol.decodeStatus(line)
        guard status.id == id else { throw .protocolViolation("answered id \(status.id) to request \(id)") }
        switch status.status {
        case "ok":
            guard status.bytes == output.count else {
                throw .protocolViolation(
                    "announced \(status.bytes.map(String.init) ?? "no") bytes of output, expected \(output.count)")
            }
            if output.count > 0 { try w.readPayload(into: output, deadline: deadline) }
            return .ok
        case "unsupported":
            try w.finishWriting(deadline: deadline)
            return .unsupported
        default:
            try w.finishWriting(deadline: deadline)
            return .error(status.message ?? "(no message)")
        }
    }
}
