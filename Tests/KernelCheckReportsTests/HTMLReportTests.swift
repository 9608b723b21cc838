import Foundation
import Testing

@testable import KernelCheckReports

/// The HTML is one self-contained, well-formed page; the Markdown has the totals line.
/// (tools/screenshot_report.sh renders it in a real headless Chromium.)
@Suite struct HTMLReportTests {
    static let voidElements: Set<String> = ["meta", "br", "hr", "img", "input", "link"]

    /// Open/close tag balance (void elements and `<…/>` excluded); nil when balanced.
    static func unbalancedTag(_ html: String) -> String? {
        var stack: [String] = []
        var rest = html[...]
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { return "unterminated tag" }
            let tag = rest[rest.index(after: open)..<close]
            rest = rest[rest.index(after: close)...]
            if tag.hasPrefix("!") { continue }
            let selfClosing = tag.hasSuffix("/")
            let name = String(tag.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }).lowercased()
            if tag.hasPrefix("/") {
                guard stack.last == name else { return "</\(name)> closes <\(stack.last ?? "nothing")>" }
                stack.removeLast()
            } else if !selfClosing && !voidElements.contains(name) {
                stack.append(name)
            }
        }
        return stack.isEmpty ? nil : "unclosed <\(stack.last!)>"
    }

    func fullReport() -> NightlyReport {
        var r = Crafted.report()
        r.rows.append(Crafted.row(.sweepBound, op: "matmul", utilizations: [.infinity, 2e-9, 0.3, 40], failed: 1))
        r.failures = [Crafted.failure("matmul a=2x3 b=3x4 <script>alert(1)</script>")]
        r.benchmarks.append(Crafted.bench("GAN conv", threads: 2))
        r.skipped = [SkippedWork(phase: "bench", item: "x", reason: "time budget & more")]
        var base = Crafted.report()
        base.benchmarks = [Crafted.bench(seconds: 0.02)]
        r.compare(with: base, path: "prev/report.json")
        r.normalize()
        return r
    }

    @Test func theHTMLIsBalancedSelfContainedAndEscaped() throws {
        for r in [Crafted.report(), fullReport()] {
            let html = HTMLReport.render(r)
            #expect(Self.unbalancedTag(html) == nil, "\(Self.unbalancedTag(html) ?? "")")
            #expect(html.hasPrefix("<!DOCTYPE html>"))
            #expect(!html.contains("http://") && !html.contains("https://"))
            #expect(!html.lowercased().contains("<script"))
            #expect(!html.contains("<link") && !html.contains("@import") && !html.contains("url("))
            #expect(html.contains("<svg"))
        }
        let html = HTMLReport.render(fullReport())
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("time budget &amp; more"))
        #expect(html.contains("baseline"))
        #expect(html.contains("class=\"limit\""))  // the utilization-1 line of the histograms
    }

    @Test func theBalanceCheckerCatchesBrokenMarkup() {
        #expect(Self.unbalancedTag("<p><b>x</p>") != nil)
        #expect(Self.unbalancedTag("<div><svg><rect/></svg>") != nil)
        #expect(Self.unbalancedTag("<div><svg><rect/></svg></div><br>") == nil)
    }

    @Test func theMarkdownHasTotalsTablesAndReplays() {
        let r = fullReport()
        let md = MarkdownReport.render(r)
        #expect(md.contains("**\(r.passed) passed, \(r.failed) failed, 0 mistrusted, 0 suspicious, 0 skipped**"))
        #expect(r.failed == 1)
        #expect(md.contains("| matmul ✗ | fwd |"))
        #expect(md.contains("replay: `kernelcheck check --problem"))
        #expect(md.contains("## Changes since the baseline"))
        #expect(md.contains("Performance improvements"))
        #expect(!MarkdownReport.render(Crafted.report()).contains("ALARM"))
    }
}
