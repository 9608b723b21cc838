import Foundation

/// Starts a child process in a process group of its own, the way every child of KernelCheck
/// starts (plug-in workers, isolated sweeps): killing the group (`kill(-pid, …)`) then takes
/// whatever the child started too. SIGPIPE is reset to its default and no signal is blocked,
/// whatever this process has set.
public enum ProcessGroupSpawn {
    /// `posix_spawn` of `executable` with `arguments` (argv[0] included) and `environment`
    /// (nil: this process's), the child's descriptors `dup2`ed as `redirect` says
    /// (parent descriptor → child descriptor). Returns the pid, or the `strerror` text.
    public static func spawn(
        _ executable: String, arguments: [String], environment: [String: String]? = nil,
        redirect: [(parent: Int32, child: Int32)]
    ) -> Result<pid_t, SpawnError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for r in redirect { posix_spawn_file_actions_adddup2(&actions, r.parent, r.child) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map {
            $0.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { for a in argv + (envp ?? []) { free(a) } }
        var child: pid_t = 0
        let rc =
            envp.map { posix_spawn(&child, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else {
            return .failure(SpawnError(description: "posix_spawn \(executable): \(String(cString: strerror(rc)))"))
        }
        return .success(child)
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }
}
