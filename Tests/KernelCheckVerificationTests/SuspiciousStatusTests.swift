import Foundation
import KernelCheckCore
import KernelCheckVerification
import Testing

/// The `suspicious` status and tight mode on hand-built comparisons, and the JSON of the two
/// fields the probabilistic second opinion adds.
///
/// One element with K = 4096, expected e = 64 and magnitude m = 2600 (u = 2⁻²⁴):
/// - worst case: γ_4096 = 4096u/(1 − 4096u) = 2.4420·10⁻⁴, 2·γ·m = 1.2698, + 4u·64 = 1.5·10⁻⁵
///   → 1.2698;
/// - probabilistic: λ = √(2·ln(8192·10¹²)) = 8.5602, γ̃ ≈ λ·64·u = 3.2655·10⁻⁵, 2·γ̃·m = 0.16981
///   → 0.1698.
/// An error of 0.5 lies between the two, 2 beyond both, 0.05 within both.
@Suite struct SuspiciousStatusTests {
    static let k = 4096, e = 64.0, m = 2600.0

    /// `n` elements: the first `errors.count` have expected e and magnitude m and are off by
    /// the given errors; the rest expect exactly 0 with magnitude 0 and get 0.
    static func compare(
        _ errors: [Double], n: Int? = nil, mode: ComparisonMode = .bound
    ) throws -> KernelCheckVerification.ComparisonResult {
        let count = n ?? errors.count
        let expected = (0..<count).map { $0 < errors.count ? e : 0 }
        let magnitude = (0..<count).map { $0 < errors.count ? m : 0 }
        let actual = (0..<count).map { $0 < errors.count ? Float(e + errors[$0]) : 0 }
        return Comparison.compare(
            actual: actual, expected: try Tensor(shape: [count], storage: expected),
            magnitude: try Tensor(shape: [count], storage: magnitude), accumulationLength: k, mode: mode)
    }

    @Test func anErrorBetweenTheBoundsIsSuspiciousAndTheReasonNamesBothBounds() throws {
        let r = try Self.compare([0.05, 0.5, 0.05, 0.05])
        #expect(r.status == .suspicious && r.suspiciousCount == 1 && r.mismatchedCount == 0, "\(r.summary)")
        #expect(Swift.abs(r.probabilisticUtilization - 0.5 / 0.1698) < 0.01, "\(r.summary)")
        let reason = r.reason ?? ""
        for part in ["1 of 4 elements beyond the probabilistic bound", "λ=8.6", "K=4096", "1e-12", "index 1 [1]"] {
            #expect(reason.contains(part), "\(reason) lacks \(part)")
        }
        #expect(reason.contains("error 0.5 > 0.17 (worst-case bound 1.3)"), "\(reason)")
    }

    @Test func failedOutranksSuspicious() throws {
        let r = try Self.compare([2, 0.5])
        #expect(r.status == .failed && r.mismatchedCount == 1 && r.suspiciousCount == 1, "\(r.summary)")
    }

    /// 19 of 20 expected values are 0 (more than 90 %): mistrusted when the one real element
    /// is accurate, suspicious when it lies between the bounds.
    @Test func suspiciousOutranksMistrustedWhichOutranksPassed() throws {
        #expect(try Self.compare([0.05], n: 20).status == .mistrusted)
        #expect(try Self.compare([0.5], n: 20).status == .suspicious)
        #expect(try Self.compare([0.05, 0.05]).status == .passed)
    }

    @Test func tightModeFailsWhatBoundModeCallsSuspicious() throws {
        let bound = try Self.compare([0.05, 0.5])
        let tight = try Self.compare([0.05, 0.5], mode: .tight)
        #expect(bound.status == .suspicious)
        #expect(tight.status == .failed && tight.mismatchedCount == 1 && tight.suspiciousCount == 0, "\(tight.summary)")
        #expect(tight.worstIndex == 1 && Swift.abs((tight.worstBound ?? 0) - 0.1698) < 1e-3, "\(tight.summary)")
        #expect(tight.reason?.contains("probabilistic bound 0.17 (tight mode: λ=8.6") == true, "\(tight.summary)")
        #expect(try Self.compare([0.05, 0.05], mode: .tight).status == .passed)
    }

    /// Exact mode has no magnitude-scaled bound: nothing is ever suspicious there.
    @Test func exactModeIsNeverSuspicious() throws {
        let r = Comparison.compare(
            actual: [Float(1.5)], expected: try Tensor(shape: [1], storage: [1.0]),
            magnitude: try Tensor(shape: [1], storage: [1.0]), accumulationLength: Self.k, mode: .exact)
        #expect(r.status == .failed && r.suspiciousCount == 0 && r.probabilisticUtilization == 0)
    }

    /// The documents' encoder writes the fields in snake_case; the Codable conformance reads
    /// back what it writes (camelCase keys: `JSONFormat.decoder()` does not turn `max_ulp_distance`
    /// back into `maxULPDistance`), and a result written before the fields existed reads as 0.
    @Test func theNewFieldsAreWrittenInSnakeCaseRoundTripAndDefaultToZero() throws {
        let r = try Self.compare([0.05, 0.5])
        let document = try JSONFormat.encoder().encode(r)
        let object = try #require(try JSONSerialization.jsonObject(with: document) as? [String: Any])
        #expect(object["suspicious_count"] as? Int == 1)
        #expect((object["probabilistic_utilization"] as? Double).map { Swift.abs($0 - 0.5 / 0.1698) < 0.01 } == true)
        #expect(object["status"] as? String == "suspicious")

        let data = try JSONEncoder().encode(r)
        let decoded = try JSONDecoder().decode(KernelCheckVerification.ComparisonResult.self, from: data)
        #expect(decoded == r)

        var older = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        older["suspiciousCount"] = nil
        older["probabilisticUtilization"] = nil
        older["status"] = "passed"
        let back = try JSONDecoder().decode(
            KernelCheckVerification.ComparisonResult.self, from: try JSONSerialization.data(withJSONObject: older))
        #expect(back.suspiciousCount == 0 && back.probabilisticUtilization == 0 && back.status == .passed)
    }

    @Test func totalsCountSuspiciousOnItsOwnAndReadOlderDocuments() throws {
        let t = JSONTotals(passed: 3, failed: 1, mistrusted: 2, suspicious: 4, skipped: 5)
        #expect(t.checks == 15)
        #expect(t.summaryLine == "3 passed, 1 failed, 2 mistrusted, 4 suspicious, 5 skipped")
        let older = #"{"passed": 3, "failed": 1, "mistrusted": 2, "skipped": 5, "checks": 11}"#
        let read = try JSONFormat.decoder().decode(JSONTotals.self, from: Data(older.utf8))
        #expect(read == JSONTotals(passed: 3, failed: 1, mistrusted: 2, skipped: 5))
    }
}
