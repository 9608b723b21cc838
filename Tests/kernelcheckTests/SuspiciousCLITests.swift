import Foundation
import Testing

/// The probabilistic second opinion end to end: a small error planted with
/// KERNELCHECK_INJECT_FAULT=<op>:rel<x> on a large-K problem is suspicious (exit 0, listed with
/// its replay line) in bound mode and fails (exit 1) in tight mode.
///
/// `sumsq shape=64x64` forward is one sum of K = 4096 squares. For it the worst-case bound is
/// about 2·γ_4096·m ≈ 4.9·10⁻⁴·m and the probabilistic one 2·λ·√K·u·m ≈ 6.5·10⁻⁵·m (λ = 8.56),
/// with m ≥ |y| the sum on absolute inputs. A relative error of 2·10⁻⁴ of y lies between them
/// for m/|y| between 0.4 and 3 (seed 1: m/|y| ≈ 1.7). A relative 10⁻⁵ could not show here:
/// it is below 2·λ·√K·u·|y| for every K above about 100, within what a correct Float32 sum does.
@Suite struct SuspiciousCLITests {
    static let fault = ["KERNELCHECK_INJECT_FAULT": "loss:rel2e-4"]
    static func check(_ mode: String) -> [String] {
        ["check", "--problem", "sumsq shape=64x64", "--direction", "fwd", "--seed", "1", "--mode", mode]
    }

    @Test func boundModeCallsItSuspiciousAndExitsZero() throws {
        let r = try CLI.run(Self.check("bound"), environment: Self.fault)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasSuffix("0 passed, 0 failed, 0 mistrusted, 1 suspicious, 0 skipped\n"), "\(r.stdout)")
        #expect(r.stdout.contains("fwd: suspicious "), "\(r.stdout)")
        #expect(r.stdout.contains("1 of 1 element beyond the probabilistic bound"), "\(r.stdout)")
        let replay = try #require(
            r.stdout.split(separator: "\n").first { $0.hasPrefix("suspicious replay: ") }, "\(r.stdout)")
        #expect(replay.contains("--mode bound"))
        // The replay line reproduces it.
        let again = try CLI.run(
            CLI.words(String(replay.dropFirst("suspicious replay: ".count))), environment: Self.fault)
        #expect(again.status == 0 && again.stdout.hasSuffix("1 suspicious, 0 skipped\n"), "\(again.stdout)")
        // Without the planted error the same case passes.
        let clean = try CLI.run(Self.check("bound"))
        #expect(
            clean.status == 0 && clean.stdout.hasSuffix("1 passed, 0 failed, 0 mistrusted, 0 suspicious, 0 skipped\n"))
    }

    @Test func tightModeFailsItWithAReplayThatKeepsTightMode() throws {
        let r = try CLI.run(Self.check("tight"), environment: Self.fault)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasSuffix("0 passed, 1 failed, 0 mistrusted, 0 suspicious, 0 skipped\n"), "\(r.stdout)")
        let replay = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("replay: ") }, "\(r.stdout)")
        #expect(replay.contains("--mode tight"))
        let again = try CLI.run(CLI.words(String(replay.dropFirst("replay: ".count))), environment: Self.fault)
        #expect(again.status == 1, "\(again.stdout)")
    }

    @Test func aBadFaultSettingIsBadInput() throws {
        let r = try CLI.run(Self.check("bound"), environment: ["KERNELCHECK_INJECT_FAULT": "loss:relx"])
        #expect(r.status == 2 && r.stderr.contains(":rel<x>"), "\(r.stderr)")
    }
}
