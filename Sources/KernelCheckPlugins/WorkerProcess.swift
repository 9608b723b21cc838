import Foundation
import KernelCheckCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What went wrong with a worker process; the worker is killed and a later case starts a
/// fresh one.
enum WorkerFault: Error, CustomStringConvertible {
    /// The worker closed its standard output (exited, or was killed by a signal).
    case ended(String)
    case timedOut(seconds: Double, waitingFor: String)
    case protocolViolation(String)
    case cannotStart(String)

    var description: String {
        switch self {
        case .ended(let how): return how
        case .timedOut(let s, let what): return "timed out after \(Formatting.seconds(s)) waiting for \(what); killed"
        case .protocolViolation(let what): return "protocol violation: \(what)"
        case .cannotStart(let why): return "cannot start: \(why)"
        }
    }
}

enum Formatting {
    static func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : String(format: "%.3g s", s) }
}

/// One running `/bin/sh -c COMMAND`: its standard input and output are non-blocking pipes
/// that `exchange` drives with `poll(2)`, writing the request and reading the answer at the
/// same time (a worker that answers before it has read everything cannot deadlock the
/// harness), always against a deadline. Standard error is the harness's own.
///
/// The worker runs in its own process group, so `kill` reaches the shell and whatever it
/// started. Not thread-safe: `WorkerProcessImplementation` serializes every use.
final class WorkerProcess {
    let pid: pid_t
    private var input: Int32  // the worker's standard input (write end)
    private var output: Int32  // the worker's standard output (read end)
    /// Bytes read past the last line or payload consumed.
    private var pending: [UInt8] = []
    private var reaped = false

    /// Ignoring SIGPIPE process-wide makes a write to a dead worker fail with EPIPE instead
    /// of killing the harness; spawned workers get the default disposition back.
    private static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()

    init(command: String) throws(WorkerFault) {
        _ = WorkerProcess.ignoreSIGPIPE
        var toChild: [Int32] = [-1, -1], fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0 else { throw .cannotStart("pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0]); close(toChild[1])
            throw .cannotStart("pipe: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec: a worker started later must not hold this one's pipes open.
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let spawned = ProcessGroupSpawn.spawn(
            "/bin/sh", arguments: ["/bin/sh", "-c", command], redirect: [(toChild[0], 0), (fromChild[1], 1)])
        close(toChild[0])
        close(fromChild[1])
        switch spawned {
        case .success(let child): pid = child
        case .failure(let error):
            close(toChild[1]); close(fromChild[0])
            throw .cannotStart(error.description)
        }
        input = toChild[1]
        output = fromChild[0]
        for fd in [input, output] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit { terminate() }

    /// Kills the whole process group and reaps the shell; safe to call twice.
    func terminate() {
        if input >= 0 { close(input); input = -1 }
        if output >= 0 { close(output); output = -1 }
        guard !reaped else { return }
        _ = kill(-pid, SIGKILL)
        _ = kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
    }

    /// How the worker ended, once its output closed: waits up to a second for it to exit,
    /// then kills it.
    func endDescription() -> String {
        var status: Int32 = 0
        for _ in 0..<100 {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                reaped = true
                let code = status & 0x7f, exit = (status >> 8) & 0xff
                if code != 0 { return "worker was killed by signal \(code) (\(signalName(code)))" }
                // A shell that ran the command as its child reports a signal as 128 + n.
                guard exit > 128 && exit < 128 + 65 else { return "worker exited with status \(exit)" }
                return
                    "worker exited with status \(exit): its command was killed by signal \(exit - 128) (\(signalName(exit - 128)))"
            }
            if r < 0 { break }
            usleep(10_000)
        }
        terminate()
        return "worker closed its standard output"
    }

    private func signalName(_ n: Int32) -> String { strsignal(n).map { String(cString: $0) } ?? "signal" }

    /// Whether the worker has exited (reaping it), without waiting.
    func hasExited() -> Bool {
        guard !reaped else { return true }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { reaped = true }
        return reaped
    }

    /// Bytes the worker wrote that nobody asked for (after its last answer), without waiting.
    func unexpectedBytes() -> Int {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while output >= 0 {
            let n = scratch.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            pending.append(contentsOf: scratch[0..<n])
        }
        return pending.count
    }

    /// Writes `request` while reading one answer line; returns the line (without its newline).
    /// Any bytes of `request` not yet written when the line arrives are written by `readPayload`.
    func exchange(_ request: [UInt8], deadline: Deadline, waitingFor what: String) throws(WorkerFault) -> [UInt8] {
        toWrite = request
        written = 0
        var lineEnd: Int? = nil
        try pump(deadline: deadline, waitingFor: what) { (p: WorkerProcess) throws(WorkerFault) -> Bool in
            lineEnd = p.pending.firstIndex(of: UInt8(ascii: "\n"))
            if lineEnd == nil && p.pending.count > WorkerProtocol.maxLineLength {
                throw .protocolViolation(
                    "an answer line longer than \(WorkerProtocol.maxLineLength) bytes: \(WorkerProtocol.quoted(p.pending))"
                )
            }
            return lineEnd != nil
        }
        let line = Array(pending[..<lineEnd!])
        pending.removeFirst(lineEnd! + 1)
        return line
    }

    /// Reads exactly `count` bytes of payload into `destination` (finishing the request's write).
    func readPayload(into destination: UnsafeMutableRawBufferPointer, deadline: Deadline) throws(WorkerFault) {
        let count = destination.count
        try pump(deadline: deadline, waitingFor: "\(count) bytes of output") { $0.pending.count >= count }
        pending.withUnsafeBytes { destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        pending.removeFirst(count)
    }

    /// Finishes writing the current request (for answers without payload).
    func finishWriting(deadline: Deadline) throws(WorkerFault) {
        try pump(deadline: deadline, waitingFor: "the worker to read its inputs") { _ in true }
    }

    private var toWrite: [UInt8] = []
    private var written = 0

    /// Polls both pipes until `done` holds and the request is fully written, or the deadline.
    private func pump(
        deadline: Deadline, waitingFor what: String, done: (WorkerProcess) throws(WorkerFault) -> Bool
    ) throws(WorkerFault) {
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        var readDone = try done(self)
        while !readDone || written < toWrite.count {
            let remaining = deadline.remainingMilliseconds
            guard remaining > 0 else {
                throw .timedOut(
                    seconds: deadline.seconds, waitingFor: readDone ? "the worker to read its inputs" : what)
            }
            var fds = [pollfd(fd: output, events: Int16(POLLIN), revents: 0)]
            if written < toWrite.count { fds.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
            let r = poll(&fds, nfds_t(fds.count), Int32(min(remaining, Int(Int32.max))))
            if r < 0 {
                if errno == EINTR { continue }
                throw .protocolViolation("poll: \(String(cString: strerror(errno)))")
            }
            if fds.count > 1 && fds[1].revents != 0 {
                let n = toWrite.withUnsafeBytes { write(input, $0.baseAddress! + written, $0.count - written) }
                if n > 0 {
                    written += n
                } else if n < 0 && errno != EAGAIN && errno != EINTR {
                    // EPIPE: the worker closed its input (it exited); its output tells why.
                    written = toWrite.count
                    if errno != EPIPE { throw .protocolViolation("write: \(String(cString: strerror(errno)))") }
                }
            }
            if fds[0].revents != 0 {
                let n = scratch.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
                if n > 0 {
                    pending.append(contentsOf: scratch[0..<n])
                    readDone = try done(self)
                } else if n == 0 {
                    throw .ended(endDescription() + " while the harness was waiting for \(what)")
                } else if errno != EAGAIN && errno != EINTR {
                    throw .protocolViolation("read: \(String(cString: strerror(errno)))")
                }
            }
        }
    }
}

/// A point in time on the monotonic clock, `seconds` after it was made.
struct Deadline {
    let seconds: Double
    private let end: UInt64

    init(seconds: Double) {
        self.seconds = seconds
        end = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(seconds, 0) * 1e9)
    }

    var remainingMilliseconds: Int {
        let now = DispatchTime.now().uptimeNanoseconds
        return now >= end ? 0 : Int((end - now + 999_999) / 1_000_000)
    }
}
