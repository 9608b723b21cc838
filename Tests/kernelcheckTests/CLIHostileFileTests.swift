import Foundation
import KernelCheckTestSupport
import Testing

/// `kernelcheck verify` on each file of `tools/craft_hostile_inputs.py` (crafted with h5py):
/// one error line and exit 2 where the file must be refused, an honest `mistrusted` where
/// nothing can be checked — never a hang, a silent pass or a read of another file.
@Suite(.serialized) struct CLIHostileFileTests {
    /// Writes `kind` into a scratch directory with h5py; `nil` when python3 with h5py is missing.
    static func craft(_ kind: String) throws -> String? { try TestSupport.craftHostile(kind) }

    static var h5pyAvailable: Bool { TestSupport.h5pyAvailable }

    @Test(
        .enabled(if: h5pyAvailable),
        arguments: [
            ("external-link", "/relu shape=3 is an external link to '"),
            ("external-storage", "dataset /relu shape=3/x keeps its values outside the file (in external raw files)"),
            ("virtual", "dataset /relu shape=3/x keeps its values outside the file (a virtual dataset"),
            ("broken-soft-link", "/relu shape=3/y is a broken link (its target '/nowhere' does not exist)"),
            ("sparse-huge", "over the memory budget"),
            ("unavailable-filter", "dataset /relu shape=3/x is compressed with HDF5 filter 32001"),
            ("repeated-directions", "attribute 'directions' lists 'fwd' more than once"),
            ("name-mismatch", "the group name differs from its problem attribute 'relu shape=3'"),
            ("duplicate-problem", "appears in more than one case group"),
        ])
    func refusedWithOneLine(_ kind: String, _ message: String) throws {
        let path = try #require(try Self.craft(kind))
        defer {
            TestSupport.removeScratch(TestSupport.scratch(of: path))
        }
        let started = Date()
        try CLIHardeningTests.expectBadInput(["verify", path], mentions: [path, message])
        #expect(Date().timeIntervalSince(started) < 10, "\(kind) took \(Date().timeIntervalSince(started)) s")
    }

    /// A relu case of shape 0x3: nothing to compare, so every check is `mistrusted` with the
    /// reason, and none is counted as passed.
    @Test(.enabled(if: h5pyAvailable)) func emptyOutputIsMistrusted() throws {
        let path = try #require(try Self.craft("empty-output"))
        defer {
            TestSupport.removeScratch(TestSupport.scratch(of: path))
        }
        let r = try CLI.run(["verify", path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("empty output: no elements to compare"), "\(r.stdout)")
        #expect(r.stdout.contains("0 passed") && !r.stdout.contains("\npassed"), "\(r.stdout)")
        #expect(r.stdout.contains(" mistrusted") && !r.stdout.contains(" 0 mistrusted"), "\(r.stdout)")
    }
}
