import Foundation

/// Inline SVG charts as strings: no scripts, no external resources, tooltips via `<title>`.
enum SVGChart {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func n(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A histogram of bound utilization on a log axis from 10^lowDecade to 10^highDecade
    /// (values outside land in the end bins), with a bar for exact zeros on the left, one for
    /// non-finite values on the right, and a dashed line at utilization 1 (the bound). Bar
    /// heights are log-scaled (log10(1 + count)) so a few bad cases stay visible beside
    /// thousands of good ones; the exact count is each bar's tooltip.
    static func utilizationHistogram(
        _ h: LogHistogram, title: String, lowDecade: Int = -8, highDecade: Int = 1
    ) -> String {
        let b = h.binsPerDecade
        let lowBin = lowDecade * b, highBin = highDecade * b  // bins lowBin ..< highBin
        var counts = [Int](repeating: 0, count: highBin - lowBin)
        for (i, c) in h.counts { counts[min(max(i, lowBin), highBin - 1) - lowBin] += c }
        let width = 620.0, height = 190.0, left = 40.0, right = 16.0, top = 22.0, bottom = 34.0
        let slots = Double(counts.count + 3)  // zero bar, gap, bins, non-finite bar
        let slot = (width - left - right) / slots
        let maxHeight = log10(1 + Double(max(counts.max() ?? 0, h.zeros, h.nonFinite, 1)))
        func barHeight(_ c: Int) -> Double {
            c == 0 ? 0 : max(2, (height - top - bottom) * log10(1 + Double(c)) / maxHeight)
        }
        var svg =
            "<svg class=\"chart\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">"
        svg += "<text x=\"\(n(left))\" y=\"14\" class=\"t\">\(escape(title)) — \(h.total) cases</text>"
        let base = height - bottom
        svg += "<line x1=\"\(n(left))\" y1=\"\(n(base))\" x2=\"\(n(width - right))\" y2=\"\(n(base))\" class=\"axis\"/>"
        func bar(_ slotIndex: Double, _ c: Int, _ cls: String, _ tip: String) {
            let hgt = barHeight(c)
            svg +=
                "<rect x=\"\(n(left + slotIndex * slot + 0.5))\" y=\"\(n(base - hgt))\" width=\"\(n(max(slot - 1, 1)))\" height=\"\(n(hgt))\" class=\"\(cls)\"><title>\(escape(tip)): \(c)</title></rect>"
        }
        bar(0, h.zeros, "zero", "exactly 0")
        svg +=
            "<text x=\"\(n(left + 0.5 * slot))\" y=\"\(n(base + 14))\" class=\"tick\" text-anchor=\"middle\">0</text>"
        for (k, c) in counts.enumerated() {
            let i = lowBin + k
            let lo = h.lowerEdge(i), hi = h.upperEdge(i)
            let edge =
                k == 0
                ? "below \(Format.g(hi))"
                : k == counts.count - 1 ? "at least \(Format.g(lo))" : "\(Format.g(lo)) to \(Format.g(hi))"
            bar(Double(k + 2), c, lo >= 1 ? "bad" : "good", "utilization \(edge)")
        }
        bar(Double(counts.count + 2), h.nonFinite, "bad", "non-finite")
        svg +=
            "<text x=\"\(n(left + (Double(counts.count) + 2.5) * slot))\" y=\"\(n(base + 14))\" class=\"tick\" text-anchor=\"middle\">∞</text>"
        for decade in lowDecade..<highDecade {  // the last bin (≥ 10^(highDecade − 1/b)) sits before the ∞ bar
            let x = left + Double((decade - lowDecade) * b + 2) * slot
            svg += "<line x1=\"\(n(x))\" y1=\"\(n(base))\" x2=\"\(n(x))\" y2=\"\(n(base + 4))\" class=\"axis\"/>"
            svg += "<text x=\"\(n(x))\" y=\"\(n(base + 14))\" class=\"tick\" text-anchor=\"middle\">1e\(decade)</text>"
        }
        let one = left + Double(-lowDecade * b + 2) * slot
        svg +=
            "<line x1=\"\(n(one))\" y1=\"\(n(top))\" x2=\"\(n(one))\" y2=\"\(n(base))\" class=\"limit\"><title>the error bound (utilization 1)</title></line>"
        svg += "<text x=\"\(n(one - 3))\" y=\"\(n(top + 10))\" class=\"tick\" text-anchor=\"end\">bound</text>"
        svg +=
            "<text x=\"\(n((width) / 2))\" y=\"\(n(height - 4))\" class=\"tick\" text-anchor=\"middle\">error / bound (log scale; bar height log(1 + count))</text>"
        svg += "</svg>"
        return svg
    }

    /// Horizontal GFLOP/s bars, the baseline's (grey) under each current bar (blue).
    static func gflopsBars(_ items: [(label: String, current: Double, baseline: Double?)], title: String) -> String {
        let width = 900.0, labelWidth = 360.0, right = 90.0, rowHeight = 26.0, top = 26.0
        let height = top + rowHeight * Double(items.count) + 24
        let scaleMax = max(items.map { max($0.current, $0.baseline ?? 0) }.max() ?? 1, 1e-9)
        let span = width - labelWidth - right
        var svg =
            "<svg class=\"chart\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">"
        svg += "<text x=\"0\" y=\"14\" class=\"t\">\(escape(title))</text>"
        svg +=
            "<rect x=\"\(n(labelWidth))\" y=\"4\" width=\"10\" height=\"10\" class=\"cur\"/><text x=\"\(n(labelWidth + 14))\" y=\"13\" class=\"tick\">tonight</text>"
        svg +=
            "<rect x=\"\(n(labelWidth + 80))\" y=\"4\" width=\"10\" height=\"10\" class=\"base\"/><text x=\"\(n(labelWidth + 94))\" y=\"13\" class=\"tick\">baseline</text>"
        for (k, item) in items.enumerated() {
            let y = top + Double(k) * rowHeight
            svg +=
                "<text x=\"\(n(labelWidth - 6))\" y=\"\(n(y + 13))\" class=\"tick\" text-anchor=\"end\">\(escape(item.label))</text>"
            let w = span * item.current / scaleMax
            svg +=
                "<rect x=\"\(n(labelWidth))\" y=\"\(n(y + 2))\" width=\"\(n(max(w, 1)))\" height=\"12\" class=\"cur\"><title>\(escape(item.label)): \(String(format: "%.1f", item.current)) GFLOP/s</title></rect>"
            var note = String(format: "%.1f", item.current)
            if let b = item.baseline {
                let bw = span * b / scaleMax
                svg +=
                    "<rect x=\"\(n(labelWidth))\" y=\"\(n(y + 15))\" width=\"\(n(max(bw, 1)))\" height=\"7\" class=\"base\"><title>baseline: \(String(format: "%.1f", b)) GFLOP/s</title></rect>"
                if b > 0 { note += String(format: " (%+.0f%%)", (item.current / b - 1) * 100) }
            }
            svg += "<text x=\"\(n(labelWidth + w + 4))\" y=\"\(n(y + 13))\" class=\"tick\">\(note)</text>"
        }
        svg +=
            "<text x=\"\(n(labelWidth))\" y=\"\(n(height - 6))\" class=\"tick\">GFLOP/s (0 to \(String(format: "%.0f", scaleMax)))</text>"
        svg += "</svg>"
        return svg
    }
}
