import Foundation
import KernelCheckCore

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// A `kernelcheck` child process whose standard output is read line by line with a time
/// limit (`poll(2)`), and whose end is read as an exit status or a signal — for running an
/// implementation where its crash or hang cannot take this process down.
///
/// The child is spawned (never forked: this process may have threads) in its own process
/// group, so a kill reaches a worker it started too; its standard error is this process's.
/// Swift's backtracer is turned off in it (`SWIFT_BACKTRACE=enable=no`): a crash then ends
/// the child at once instead of after seconds of symbolication nobody reads.
final class IsolatedProcess {
    let pid: pid_t
    private var output: Int32
    private var pending: [UInt8] = []
    private var reaped = false
    private var status: Int32 = 0

    /// This executable (`/proc/self/exe`, else argv[0]).
    static let executable: String = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0
            ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : CommandLine.arguments[0]
    }()

    struct CannotStart: Error, CustomStringConvertible { var description: String }

    init(arguments: [String], executable: String = IsolatedProcess.executable) throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw CannotStart(description: "pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let spawned = ProcessGroupSpawn.spawn(
            executable, arguments: [executable] + arguments, environment: environment, redirect: [(fds[1], 1)])
        close(fds[1])
        let child: pid_t
        switch spawned {
        case .success(let pid): child = pid
        case .failure(let error):
            close(fds[0])
            throw CannotStart(description: error.description)
        }
        pid = child
        output = fds[0]
    }

    deinit { kill() }

    enum Read { case line(String), end, timeout }

    /// The next line of the child's standard output (without its newline); `.end` when the
    /// output closed, `.timeout` when nothing complete arrived within `timeout` seconds.
    func readLine(timeout: Double) -> Read {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return .line(line)
            }
            guard output >= 0 else { return .end }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return .timeout }
            var fd = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let r = poll(&fd, 1, Int32(min(remaining * 1000 + 1, Double(Int32.max))))
            if r < 0 && errno == EINTR { continue }
            if r == 0 { return .timeout }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(output, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                close(output)
                output = -1
                if pending.isEmpty { return .end }
                let line = String(decoding: pending, as: UTF8.self)
                pending = []
                return .line(line)
            }
            pending += chunk[0..<n]
        }
    }

    /// Kills the child's process group and reaps it; safe to call twice.
    func kill() {
        if output >= 0 { close(output); output = -1 }
        guard !reaped else { return }
        _ = Glibc.kill(-pid, SIGKILL)
        _ = Glibc.kill(pid, SIGKILL)
        _ = waitForExit()
    }

    /// How the child ended: `signal` when a signal killed it, else `exit` its status. Waits.
    func waitForExit() -> (signal: Int32?, exit: Int32) {
        if !reaped {
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            reaped = true
        }
        let signal = status & 0x7f
        return signal != 0 ? (signal, 0) : (nil, (status >> 8) & 0xff)
    }

    /// How the child ended, in words (`killed by SIGSEGV (signal 11)`, `the process exited
    /// with status 3`); nil when it exited with status 0. Waits.
    func ending() -> String? {
        let end = waitForExit()
        if let s = end.signal { return "killed by \(Self.signalName(s)) (signal \(s))" }
        return end.exit == 0 ? nil : "the process exited with status \(end.exit)"
    }

    /// `SIGSEGV`, `SIGABRT`, …: the name a crash report shows.
    static func signalName(_ n: Int32) -> String {
        let names: [Int32: String] = [
            SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE",
            SIGTRAP: "SIGTRAP", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGSYS: "SIGSYS", SIGXCPU: "SIGXCPU",
        ]
        return names[n] ?? "signal \(n)"
    }
}
