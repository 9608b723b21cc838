import Foundation
import Testing

/// `kernelcheck check --dtype …`: every precision swept, its tallies keyed by precision, a
/// replayed narrow problem, and bad values of the options as one-line errors (exit 2).
@Suite struct CheckDTypeCLITests {
    @Test func theReferenceSweepsEveryPrecisionAndPasses() throws {
        let r = try CLI.run([
            "check", "--dtype", "all", "--op", "matmul", "--op", "linear", "--op", "activation", "--impl", "reference",
            "--cases", "15", "--seed", "3", "--mode", "bound",
            "--no-failure-db", "--format", "json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let tallies = try #require(json["tallies"] as? [[String: Any]])
        let precisions = Set(tallies.compactMap { $0["precision"] as? String })
        #expect(precisions == ["dt=bf16", "dt=f16", "dt=f8e4m3", "dt=f8e5m2"], "\(precisions)")
        // float32 rows keep their keys (no precision field).
        #expect(tallies.contains { $0["precision"] == nil && $0["op"] as? String == "activation" })
    }

    /// The tiled kernels do not accumulate in f16: a sweep of only acc=f16 problems skips every
    /// check, names why, and exits 2 instead of reporting a pass about nothing.
    @Test func aSweepThatComparesNothingIsAnError() throws {
        let r = try CLI.run([
            "check", "--dtype", "f16", "--acc", "f16", "--op", "matmul", "--cases", "5", "--seed", "1",
            "--no-failure-db",
        ])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("skipped matmul/fwd/dt=f16 acc=f16: "), "\(r.stdout)")
        #expect(r.stderr.contains("nothing was checked: all"), "\(r.stderr)")
    }

    @Test func aReplayedNarrowProblemAndItsDescription() throws {
        let problem = "matmul a=1x3000 b=3000x2 dt=f16 acc=f16"
        let r = try CLI.run(["check", "--problem", problem, "--impl", "reference", "--seed", "2", "--mode", "exact"])
        // fwd (K = 3000) is beyond an f16 accumulator's exact integers: skipped, with the reason.
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("fwd: skipped") && r.stdout.contains("no integer fill guarantees it"), "\(r.stdout)")
        #expect(r.stdout.contains("bwd_data: passed"), "\(r.stdout)")
        let p = try CLI.run(["problem", problem])
        #expect(p.stdout.contains("precision: dt=f16 acc=f16 odt=f16"), "\(p.stdout)")
        #expect(p.stdout.contains("exact mode: exact mode needs every partial sum exact in acc=f16"), "\(p.stdout)")
    }

    @Test(arguments: [
        (["--dtype", "f64"], "--dtype: 'f64' is not a type"),
        (["--dtype", "bf16", "--acc", "f16"], "--acc: acc=f16 needs dt=f16, f8e4m3 or f8e5m2"),
        (["--dtype", "bf16", "--odt", "f16"], "--odt: odt=f16 with dt=bf16 acc=f32"),
        (["--acc", "f16"], "--acc and --odt need --dtype"),
        (["--dtype", "f16", "--op", "activation"], "--dtype without f32 needs an op family"),
    ])
    func badOptionsAreOneLineErrors(_ options: [String], _ phrase: String) throws {
        let r = try CLI.run(["check", "--cases", "1", "--no-failure-db"] + options)
        #expect(r.status == 2)
        #expect(r.stderr.contains(phrase), "\(r.stderr)")
    }
}
