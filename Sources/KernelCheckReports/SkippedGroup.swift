import Foundation

/// Skipped work folded for reading: one group per phase and kind of reason, so that 49
/// benchmarks the budget cut are one line with a count, not 49 (report.json keeps each).
///
/// The kind of a reason is its text before the first `:` (`time budget: needs ≈ 1.3 s` is
/// of kind `time budget`); a group keeps every distinct full reason and every item in the
/// order they were skipped.
struct SkippedGroup: Equatable {
    var phase: String
    var kind: String
    var reasons: [String]
    var items: [String]

    /// Items named in a folded line before `… and N more`.
    static let itemsShown = 3
    /// Distinct reasons quoted in a folded line.
    static let reasonsShown = 2

    static func kind(of reason: String) -> String {
        reason.firstIndex(of: ":").map { String(reason[..<$0]) } ?? reason
    }

    /// Groups `skipped` by phase and reason kind, in order of first appearance.
    static func fold(_ skipped: [SkippedWork]) -> [SkippedGroup] {
        var groups: [SkippedGroup] = []
        for w in skipped {
            let kind = kind(of: w.reason)
            if let i = groups.firstIndex(where: { $0.phase == w.phase && $0.kind == kind }) {
                groups[i].items.append(w.item)
                if !groups[i].reasons.contains(w.reason) { groups[i].reasons.append(w.reason) }
            } else {
                groups.append(SkippedGroup(phase: w.phase, kind: kind, reasons: [w.reason], items: [w.item]))
            }
        }
        return groups
    }

    /// The reason(s) of the group: the reason itself when there is one, else the kind and
    /// the first distinct reasons, e.g. `time budget (needs ≈ 0.6 s; needs ≈ 1.2 s; … 7 variants)`.
    var reasonText: String {
        guard reasons.count > 1 else { return reasons[0] }
        let details = reasons.prefix(Self.reasonsShown).map { reason in
            reason.hasPrefix(kind + ":")
                ? String(reason.dropFirst(kind.count + 1)).trimmingCharacters(in: .whitespaces) : reason
        }
        let rest = reasons.count > Self.reasonsShown ? "; … \(reasons.count) variants" : ""
        return "\(kind) (\(details.joined(separator: "; "))\(rest))"
    }

    /// The items of the group: the item itself when there is one, else `N items (a, b, c, … and M more)`.
    var itemText: String {
        guard items.count > 1 else { return items[0] }
        let more = items.count > Self.itemsShown ? ", … and \(items.count - Self.itemsShown) more" : ""
        return "\(items.count) items (\(items.prefix(Self.itemsShown).joined(separator: ", "))\(more))"
    }

    /// One line: `phase: items — reason(s)`.
    var line: String { "\(phase): \(itemText) — \(reasonText)" }
}
