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
                let o = checker.check(problem, entry.direction, seed: entry.seed, mode: entry.mode)
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
struct FaultInjectedImplementation: KernelImplementation {
    let base: any KernelImplementation
    let family: OpFamily
    var name: String { base.name }
    var honoursThreads: Bool { base.honoursThreads }

    static func wrap(_ base: any KernelImplementation) -> any KernelImplementation {
        guard let name = ProcessInfo.processInfo.environment["KERNELCHECK_INJECT_FAULT"],
            let family = OpFamily(rawValue: name)
        else { return base }
        return FaultInjectedImplementation(base: base, family: family)
    }

    func supports(_ problem: Problem, _ direction: Direction) -> Bool { base.supports(problem, direction) }

    func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        try base.run(problem, direction, inputs: inputs, output: output, threads: threads)
        if problem.family == family && !output.isEmpty { output[0] += 1 }
    }
}
