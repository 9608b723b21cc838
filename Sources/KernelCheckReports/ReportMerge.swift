extension NightlyReport {
    /// Combines shard reports of one nightly: counts summed, worst values maximized, NMSE and
    /// utilization histograms added (so percentiles are those of all cases together), failures
    /// and fixture cases concatenated, benchmarks united (a duplicate key keeps the first),
    /// skipped work concatenated, phases summed by name (seconds: the longest shard, since
    /// shards run in parallel). The environment is the first report's.
    ///
    /// Throws `incompatibleShards` when the reports disagree on the seed or shard count, or
    /// cover the same shard twice.
    public static func merge(_ reports: [NightlyReport]) throws(ReportError) -> NightlyReport {
        guard var out = reports.first else { throw .incompatibleShards(reason: "no reports given") }
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
        out.baseline = nil
        out.diff = nil
        out.normalize()
        return out
    }
}
