import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckVerification

/// `check`'s memory of failing problems (`FailureDatabase`, `.kernelcheck/failures/<op>.txt`
/// of the working directory): saved failures of the selected ops are replayed before the
/// sweep; a saved case that passes is removed; new failures are saved after it.
struct FailureMemory {
    let database: FailureDatabase
    let checker: CaseChecker
    let directions: Set<Direction>?
    let text: Bool
    /// How a saved case is checked again (nil: `checker` in this process; `check` passes its
    /// isolated child, so a saved crash cannot take the run down).
    var check: ((Problem, Direction, UInt64, ComparisonMode) -> CaseOutcome)? = nil

    /// The saved failures of `families` for this implementation (and the selected
    /// directions), each checked again with its own seed and mode; returns those that still fail.
    func replay(_ families: [OpFamily]) throws -> [CaseOutcome] {
        var stillFailing: [CaseOutcome] = []
        for family in families {
            var contents = try load(family)
            let mine = contents.entries.filter {
                $0.implementation == checker.implementation.name && (directions?.contains($0.direction) ?? true)
            }
            if mine.isEmpty { continue }
            if text { print("replaying \(mine.count) saved failure(s) from \(database.path(family))") }
            var passing = Set<FailureDatabase.Entry>()
            for entry in mine {
                guard let problem = try? Problem.parse(entry.problem) else {
                    if text { print("  cannot parse saved problem '\(entry.problem)', kept") }
                    continue
                }
                let o =
                    check?(problem, entry.direction, entry.seed, entry.mode)
                    ?? checker.check(problem, entry.direction, seed: entry.seed, mode: entry.mode)
                if o.status == .failed {
                    stillFailing.append(o)
                    if text { print("  still fails: \(entry.problem) [\(entry.direction.rawValue)]") }
                } else {
                    passing.insert(entry)
                    if text {
                        print("  now \(o.status.rawValue), removed: \(entry.problem) [\(entry.direction.rawValue)]")
                    }
                }
            }
            if passing.isEmpty { continue }
            contents.entries.removeAll { passing.contains($0) }
            try store(contents, family)
        }
        return stillFailing
    }

    /// Saves failing outcomes (the shrunk problems) to their ops' files.
    func record(_ outcomes: [CaseOutcome]) throws {
        if outcomes.isEmpty { return }
        do { try database.record(outcomes) } catch { throw BadInput(error.description) }
        if text { print("saved \(outcomes.count) failure(s) to \(database.directory)/ (replayed first next time)") }
    }

    private func load(_ family: OpFamily) throws -> FailureDatabase.Contents {
        do { return try database.load(family) } catch { throw BadInput(error.description) }
    }

    private func store(_ contents: FailureDatabase.Contents, _ family: OpFamily) throws {
        do { try database.store(contents, for: family) } catch { throw BadInput(error.description) }
    }
}

/// Test hook: with KERNELCHECK_INJECT_FAULT=<op family> in the environment, `check` adds 1 to
/// the first output element of every problem of that family, so the failure workflow
/// (shrinking, replay lines, the failure database) can be exercised end to end.
///
/// `<op family>:rel<x>` (e.g. `conv:rel1e-5`) plants a small error instead: the element of
/// largest magnitude `y` becomes `y·(1 + x)` (rounded to Float), the size of error a kernel
/// accumulating in too low a precision makes — what the probabilistic bound is there to see.
/// `<op family>:crash` raises SIGSEGV instead (the crash isolation of `check`, without a plug-in).
struct FaultInjectedImplementation: KernelImplementation {
    let base: any KernelImplementation
    let family: OpFamily
    /// The relative perturbation of the largest element; nil: +1 on the first element.
    let relative: Double?
    var crashes = false
    var name: String { base.name }
    var honoursThreads: Bool { base.honoursThreads }

    static func wrap(_ base: any KernelImplementation) -> any KernelImplementation {
        guard let setting = ProcessInfo.processInfo.environment["KERNELCHECK_INJECT_FAULT"],
            let fault = parse(setting)
        else { return base }
        return FaultInjectedImplementation(
            base: base, family: fault.family, relative: fault.relative, crashes: setting.hasSuffix(":crash"))
    }

    /// `<family>` or `<family>:rel<x>` (finite x); nil for anything else.
    static func parse(_ setting: String) -> (family: OpFamily, relative: Double?)? {
        let parts = setting.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let family = OpFamily(rawValue: parts[0]) else { return nil }
        guard parts.count == 2 else { return (family, nil) }
        if parts[1] == "crash" { return (family, nil) }
        guard parts[1].hasPrefix("rel"), let x = Double(parts[1].dropFirst(3)), x.isFinite else { return nil }
        return (family, x)
    }

    func supports(_ problem: Problem, _ direction: Direction) -> Bool { base.supports(problem, direction) }

    func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        try base.run(problem, direction, inputs: inputs, output: output, threads: threads)
        guard problem.family == family, !output.isEmpty else { return }
        if crashes { raise(SIGSEGV) }
        guard let relative else {
            output[0] += 1
            return
        }
        var largest = 0
        for i in output.indices where Swift.abs(output[i]) > Swift.abs(output[largest]) { largest = i }
        output[largest] = Float(Double(output[largest]) * (1 + relative))
    }
}
