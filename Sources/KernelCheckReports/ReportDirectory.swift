import Foundation
import KernelCheckCore

/// The output directory of `nightly` and `report merge`, written as one unit.
///
/// A reader (or a run killed at any instant) sees the old report.json / report.md /
/// report.html or the new three, never a mix: the files are written and fsynced into a
/// staging directory `.NAME.tmp-PID` next to `NAME`, which then takes `NAME`'s place in one
/// `renameat2(RENAME_EXCHANGE)` (where the kernel or file system lacks it: two renames, the
/// old set parked as `.NAME.old-PID` in between, put back by the next run if killed there).
///
/// Opening one takes an exclusive `flock` on `.NAME.lock` next to the directory (the lock
/// file holds the owner's pid, for the message; the kernel drops the lock when its owner
/// dies, so a killed run never leaves a stale lock), sweeps the staging, parked and
/// `.report.*.tmp-PID` files of dead runs, and creates the staging directory: an `--out`
/// that cannot be written fails here, before the run, not after its budget.
public final class ReportDirectory {
    /// The directory, absolute, symbolic links resolved.
    public let path: String
    let parent: String
    let name: String
    let staging: String
    let parked: String
    private var lock: Int32
    static let reportNames = ["report.md", "report.html", "report.json"]

    public init(_ out: String) throws(ReportError) {
        let url = URL(fileURLWithPath: out).standardizedFileURL.resolvingSymlinksInPath()
        path = url.path
        name = url.lastPathComponent
        parent = url.deletingLastPathComponent().path
        guard !name.isEmpty, name != "/", name != ".", name != ".." else {
            throw .cannotWrite(path: out, reason: "not a directory the reports can replace")
        }
        let pid = ProcessInfo.processInfo.processIdentifier
        staging = parent + "/.\(name).tmp-\(pid)"
        parked = parent + "/.\(name).old-\(pid)"
        do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: out, reason: "cannot create \(parent): \(Self.reason(error))")
        }
        lock = try Self.takeLock(parent + "/.\(name).lock", for: out)
        do {
            try Self.sweep(parent: parent, name: name, directory: path)
            try checkExisting(out)
            try? FileManager.default.removeItem(atPath: staging)
            guard mkdir(staging, 0o755) == 0 else {
                throw ReportError.cannotWrite(path: out, reason: "\(parent) is not writable: \(Self.errnoText())")
            }
        } catch let e as ReportError {
            close(lock)
            throw e
        } catch {
            close(lock)
            throw .cannotWrite(path: out, reason: "\(error)")
        }
    }

    deinit { release() }

    /// Removes the staging directory (if unused) and drops the lock; idempotent.
    public func release() {
        guard lock >= 0 else { return }
        try? FileManager.default.removeItem(atPath: staging)
        close(lock)
        lock = -1
    }

    /// The existing directory must be a directory, writable, holding nothing but reports.
    func checkExisting(_ out: String) throws(ReportError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw .cannotWrite(path: out, reason: "exists and is not a directory")
        }
        guard access(path, W_OK) == 0 else { throw .cannotWrite(path: out, reason: "not writable") }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        if let other = entries.sorted().first(where: { !Self.reportNames.contains($0) }) {
            throw .cannotWrite(
                path: out,
                reason: "holds '\(other)', not a report: the reports replace the whole directory, give one of their own"
            )
        }
    }

    /// Writes the three files into the staging directory and puts it in place of `path`.
    @discardableResult
    public func publish(_ report: NightlyReport) throws(ReportError) -> [String] {
        let json: Data
        do { json = try report.jsonData() } catch {
            throw .cannotWrite(path: path + "/report.json", reason: "\(error)")
        }
        let files = [
            ("report.json", json), ("report.md", Data(MarkdownReport.render(report).utf8)),
            ("report.html", Data(HTMLReport.render(report).utf8)),
        ]
        for (file, data) in files {
            let target = staging + "/" + file
            do { try data.write(to: URL(fileURLWithPath: target)) } catch {
                throw .cannotWrite(path: path + "/" + file, reason: Self.reason(error))
            }
            try Self.sync(target, for: path + "/" + file)
        }
        try Self.sync(staging, for: path)
        try swapIntoPlace()
        try? Self.sync(parent, for: path)
        return Self.reportNames.map { path + "/" + $0 }
    }

    func swapIntoPlace() throws(ReportError) {
        if rename(staging, path) == 0 { return }  // no old directory (or an empty one)
        if Self.exchange(staging, path) == 0 {
            try? FileManager.default.removeItem(atPath: staging)  // the old set
            return
        }
        guard rename(path, parked) == 0 else { throw .cannotWrite(path: path, reason: Self.errnoText()) }
        guard rename(staging, path) == 0 else {
            let reason = Self.errnoText()
            _ = rename(parked, path)
            throw .cannotWrite(path: path, reason: reason)
        }
        try? FileManager.default.removeItem(atPath: parked)
    }

    static func takeLock(_ lockPath: String, for out: String) throws(ReportError) -> Int32 {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .cannotWrite(path: out, reason: "cannot create the lock \(lockPath): \(errnoText())")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let owner =
                (try? String(contentsOfFile: lockPath, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw .busy(
                path: out,
                reason: "another kernelcheck (pid \(owner)) is writing its reports; wait or give another --out")
        }
        let text = "\(ProcessInfo.processInfo.processIdentifier)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        return fd
    }

    /// Removes what dead runs left: staging directories, parked old sets (put back when the
    /// run died between its two renames) and `AtomicFile` temporaries inside the directory.
    static func sweep(parent: String, name: String, directory: String) throws {
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: parent)) ?? [] {
            for kind in ["tmp", "old"] {
                let prefix = ".\(name).\(kind)-"
                guard entry.hasPrefix(prefix), let pid = Int32(entry.dropFirst(prefix.count)), isDead(pid) else {
                    continue
                }
                let stale = parent + "/" + entry
                if kind == "old" && !fm.fileExists(atPath: directory) && rename(stale, directory) == 0 { continue }
                try fm.removeItem(atPath: stale)
            }
        }
        for entry in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(".report.") {
            guard let range = entry.range(of: ".tmp-", options: .backwards),
                let pid = Int32(entry[range.upperBound...]), isDead(pid)
            else { continue }
            try fm.removeItem(atPath: directory + "/" + entry)
        }
    }

    static func isDead(_ pid: Int32) -> Bool { StaleTemporaries.isDead(pid) }

    static func sync(_ file: String, for target: String) throws(ReportError) {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            let reason = errnoText()
            if fd >= 0 { close(fd) }
            throw .cannotWrite(path: target, reason: "fsync of \(file): \(reason)")
        }
        close(fd)
    }

    /// `renameat2(…, RENAME_EXCHANGE)`, looked up at run time (glibc ≥ 2.28); -1 when absent.
    static func exchange(_ a: String, _ b: String) -> Int32 {
        typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return -1 }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, 2)  // RENAME_EXCHANGE
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }
}
