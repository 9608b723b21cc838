extension NightlyReport {
    /// Combines shard reports of one nightly: counts summed, worst values maximized, NMSE and
    /// utilization histograms added (so percentiles are those of all cases together), failures
    /// and fixture cases concatenated, benchmarks united (a duplicate key keeps the first),
    /// skipped work concatenated, phases summed by name (seconds: the longest shard, since
    /// shards run in parallel). The environment is the first report's.
    ///
    /// Throws `incompatibleShards` when the reports disagree on the seed or shard count, cover
    /// the same shard twice, or (unless `allowMissing`) leave a shard of `0..<shard_count`
    /// out: a merge of 3 of 4 shards is not the night's report. `paths` (one per report)
    /// name the files in the message.
    public static func merge(
        _ reports: [NightlyReport], paths: [String] = [], allowMissing: Bool = false
    ) throws(ReportError) -> NightlyReport {
        guard var out = reports.first else { throw .incompatibleShards(reason: "no reports given") }
        func name(_ i: Int) -> String { i < paths.count ? paths[i] : "report \(i + 1)" }
        var owner: [Int: Int] = [:]
        for (i, r) in reports.enumerated() {
            for shard in r.settings.shards {
                if let first = owner[shard] {
                    throw .incompatibleShards(
                        reason: "shard \(shard) appears twice (\(name(first)) and \(name(i))): duplicate shard reports")
                }
                owner[shard] = i
            }
        }
        for r in reports.dropFirst() {
            if r.settings.seed != out.settings.seed {
                throw .incompatibleShards(reason: "seeds differ (\(out.settings.seed) and \(r.settings.seed))")
            }
            if r.settings.shardCount != out.settings.shardCount {
                throw .incompatibleShards(
                    reason: "shard counts differ (\(out.settings.shardCount) and \(r.settings.shardCount))")
            }
            let overlap = Set(out.settings.shards).intersection(r.settings.shards)
            if !overlap.isEmpty {
                throw .incompatibleShards(
                    reason: "shard \(overlap.sorted().map(String.init).joined(separator: ", ")) appears twice")
            }
            out.settings.shards = (out.settings.shards + r.settings.shards).sorted()
            var rows = Dictionary(out.rows.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            for row in r.rows {
                if var existing = rows[row.key] {
                    existing.merge(row); rows[row.key] = existing
                } else {
                    rows[row.key] = row
                }
            }
            out.rows = Array(rows.values)
            out.fixtureCases += r.fixtureCases
            out.failures += r.failures
            let have = Set(out.benchmarks.map(\.key))
            out.benchmarks += r.benchmarks.filter { !have.contains($0.key) }
            out.skipped += r.skipped
            out.mergePathCoverage(r.pathCoverage)
            for p in r.phases {
                if let i = out.phases.firstIndex(where: { $0.name == p.name }) {
                    out.phases[i].seconds = max(out.phases[i].seconds, p.seconds)
                    out.phases[i].problems += p.problems
                    out.phases[i].checks += p.checks
                } else {
                    out.phases.append(p)
                }
            }
        }
        let missing = (0..<out.settings.shardCount).filter { owner[$0] == nil }
        if !missing.isEmpty && !allowMissing {
            throw .incompatibleShards(
                reason: "missing shard(s) \(missing.map(String.init).joined(separator: ", ")) of "
                    + "\(out.settings.shardCount) (have \(owner.keys.sorted().map(String.init).joined(separator: ", ")))"
            )
        }
        out.baseline = nil
        out.diff = nil
        out.normalize()
        return out
    }
}
