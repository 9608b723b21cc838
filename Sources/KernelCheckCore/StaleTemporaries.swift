import Foundation

/// Temporary files that an atomic write names after its process (`….tmp-<pid>…`): those of a
/// process that no longer exists were left by a killed run and are safe to remove.
public enum StaleTemporaries {
    /// Whether `pid` names no running process (and is not this one).
    public static func isDead(_ pid: Int32) -> Bool {
        pid > 0 && pid != ProcessInfo.processInfo.processIdentifier && kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Removes the entries of `directory` named `prefix` + `<pid>` + anything whose pid is dead;
    /// returns how many it removed. Unreadable directories and failed removals are skipped:
    /// sweeping is housekeeping, never a reason to fail the write that triggered it.
    @discardableResult
    public static func sweep(directory: String, prefix: String) -> Int {
        var removed = 0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where entry.hasPrefix(prefix) {
            let digits = entry.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let pid = Int32(digits), isDead(pid) else { continue }
            if (try? FileManager.default.removeItem(atPath: directory + "/" + entry)) != nil { removed += 1 }
        }
        return removed
    }
}
