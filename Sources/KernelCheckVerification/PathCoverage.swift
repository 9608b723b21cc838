import Foundation
import KernelCheckProblems
import KernelCheckTiled

/// A tally of the tiled paths and blocking boundaries that checked problems reached, against
/// the list of every path and boundary the plans have (`Tiled.coverageTargets`): a path or
/// boundary no problem reached is a gap, listed, never left out of the table.
///
/// Each case adds one count to its (plan, path) row and one to each boundary it crossed
/// (`Tiled.coverage(of:_:threads:)`, computed from the plan the kernels run). Cases of ops
/// outside the convolution and GEMM plans (activations, losses, pad projections) are counted
/// as `untracked`.
public struct PathCoverage: Codable, Sendable, Equatable {
    /// One plan path: cases that took it and, per boundary (`CoverageBoundary.rawValue`), the
    /// cases that crossed it.
    public struct Row: Codable, Sendable, Equatable {
        public var kernel: String
        public var path: String
        public var cases = 0
        public var boundaries: [String: Int] = [:]

        public init(kernel: String, path: String) {
            self.kernel = kernel
            self.path = path
        }
    }

    /// A path or a boundary of a path that no case reached (`boundary` nil: the path itself).
    public struct Gap: Codable, Sendable, Equatable, CustomStringConvertible {
        public var kernel: String
        public var path: String
        public var boundary: String?

        public var description: String { "\(kernel)/\(path)" + (boundary.map { " × \($0)" } ?? "") }
    }

    /// Keyed by `kernel/path`.
    public var rows: [String: Row] = [:]
    public var untracked = 0

    public init() {}

    /// Adds one case.
    public mutating func record(_ c: PlanCoverage?) {
        guard let c else {
            untracked += 1
            return
        }
        rows["\(c.kernel)/\(c.path)", default: Row(kernel: c.kernel, path: c.path)].cases += 1
        for b in c.boundaries { rows["\(c.kernel)/\(c.path)"]!.boundaries[b.rawValue, default: 0] += 1 }
    }

    /// Adds one case of `problem` in `direction` run by the tiled implementation on `threads`.
    public mutating func record(_ problem: Problem, _ direction: Direction, threads: Int) {
        record(Tiled.coverage(of: problem, direction, threads: threads))
    }

    /// Adds every count of `other` (shards, phases).
    public mutating func merge(_ other: PathCoverage) {
        untracked += other.untracked
        for (key, row) in other.rows {
            rows[key, default: Row(kernel: row.kernel, path: row.path)].cases += row.cases
            for (b, n) in row.boundaries { rows[key]!.boundaries[b, default: 0] += n }
        }
    }

    /// Cases recorded, untracked ones included.
    public var cases: Int { rows.values.map(\.cases).reduce(0, +) + untracked }

    /// The paths and boundaries of `targets` that no case reached, in the targets' order.
    public func gaps(_ targets: [CoverageTarget] = Tiled.coverageTargets) -> [Gap] {
        targets.flatMap { t -> [Gap] in
            let row = rows["\(t.kernel)/\(t.path)"]
            guard let row, row.cases > 0 else { return [Gap(kernel: t.kernel, path: t.path, boundary: nil)] }
            return t.boundaries.filter { (row.boundaries[$0.rawValue] ?? 0) == 0 }.map {
                Gap(kernel: t.kernel, path: t.path, boundary: $0.rawValue)
            }
        }
    }

    /// `kernel/path` of every target path at least one case reached.
    public var reachedPaths: Set<String> { Set(rows.filter { $0.value.cases > 0 }.keys) }

    /// The table: one line per target path (cases, then the count of each boundary it can
    /// cross, `—` where it cannot), rows no target lists, then the gaps.
    public func table(_ targets: [CoverageTarget] = Tiled.coverageTargets) -> [String] {
        let columns = CoverageBoundary.allCases
        let short: [CoverageBoundary: String] = [
            .bandSplit: "bands", .panelBlocks: "blocks", .kPastKc: "K>kc", .nPastNc: "N>nc", .mPastMc: "M>mc",
            .threadSplit: "threads", .edgeTiles: "edges",
        ]
        func cell(_ s: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - s.count)) + s
        }
        let nameWidth = 44
        var lines = [
            "path".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + cell("cases", 7)
                + columns.map { cell(short[$0]!, 8) }.joined()
        ]
        var listed = Set<String>()
        for t in targets {
            let key = "\(t.kernel)/\(t.path)"
            listed.insert(key)
            let row = rows[key]
            let counts = columns.map { b -> String in
                guard t.boundaries.contains(b) else { return cell("—", 8) }
                return cell("\(row?.boundaries[b.rawValue] ?? 0)", 8)
            }
            lines.append(
                key.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + cell("\(row?.cases ?? 0)", 7)
                    + counts.joined())
        }
        for key in rows.keys.sorted() where !listed.contains(key) {
            lines.append(
                key.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + cell("\(rows[key]!.cases)", 7)
                    + "  (not a plan path)")
        }
        lines.append("untracked (no tiled plan: activations, losses, pad projections): \(untracked)")
        let gaps = gaps(targets)
        let possible = targets.map { 1 + $0.boundaries.count }.reduce(0, +)
        // A path no case reached is one gap but counts 1 + its boundaries as unreached.
        let reached = targets.map { t -> Int in
            guard let row = rows["\(t.kernel)/\(t.path)"], row.cases > 0 else { return 0 }
            return 1 + t.boundaries.filter { (row.boundaries[$0.rawValue] ?? 0) > 0 }.count
        }.reduce(0, +)
        lines.append("coverage: \(reached) of \(possible) paths and path × boundary pairs reached")
        if gaps.isEmpty {
            lines.append("gaps: none")
        } else {
            lines.append("gaps (\(gaps.count)): " + gaps.map(\.description).joined(separator: ", "))
        }
        return lines
    }
}

/// `PathCoverage` as the JSON documents carry it (`check --format json`, the nightly
/// report): rows sorted by plan and path, boundaries by name, and the gaps.
public struct CoverageDocument: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var kernel: String
        public var path: String
        public var cases: Int
        /// Boundaries crossed, in `CoverageBoundary` order (an array, not an object: JSON
        /// readers convert object keys from snake case).
        public var boundaries: [BoundaryCount]

        /// The count of `boundary` (0 when absent).
        public func count(_ boundary: String) -> Int { boundaries.first { $0.boundary == boundary }?.cases ?? 0 }
    }

    public struct BoundaryCount: Codable, Sendable, Equatable {
        public var boundary: String
        public var cases: Int
    }

    public var rows: [Row]
    public var untracked: Int
    public var gaps: [PathCoverage.Gap]

    public init(_ c: PathCoverage, targets: [CoverageTarget] = Tiled.coverageTargets) {
        rows = c.rows.keys.sorted().map { key in
            let r = c.rows[key]!
            let order = CoverageBoundary.allCases.map(\.rawValue)
            let names = r.boundaries.keys.sorted {
                (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1)
            }
            return Row(
                kernel: r.kernel, path: r.path, cases: r.cases,
                boundaries: names.map { BoundaryCount(boundary: $0, cases: r.boundaries[$0]!) })
        }
        untracked = c.untracked
        gaps = c.gaps(targets)
    }
}

extension PathCoverage {
    /// The tally a document carries (to merge shard reports).
    public init(_ d: CoverageDocument) {
        for r in d.rows {
            var row = Row(kernel: r.kernel, path: r.path)
            row.cases = r.cases
            row.boundaries = Dictionary(r.boundaries.map { ($0.boundary, $0.cases) }, uniquingKeysWith: +)
            rows["\(r.kernel)/\(r.path)"] = row
        }
        untracked = d.untracked
    }
}
