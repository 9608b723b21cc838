import Foundation
import KernelCheckCore
import Testing

@testable import KernelCheckHDF5

/// Files crafted with h5py (`tools/craft_hostile_inputs.py`) that once got past the reader:
/// links and datasets that make libhdf5 read other files, a group listing that took
/// quadratic time, and a sparse dataset the probe read in full before any budget check. Each
/// is refused by the read probe (a child process) *and*, with the probe off, by the
/// in-process reader itself.
@Suite(.serialized, .enabled(if: TestSupport.h5pyAvailable, "needs python3 with h5py"))
struct HDF5HostileInputTests {
    /// Writes `kind` into a fresh directory and returns the file's path (the directory is the
    /// path's parent; remove it with `TestSupport.removeScratch`).
    static func craft(_ kind: String, count: Int? = nil) throws -> String {
        try #require(try TestSupport.craftHostile(kind, count: count), "craft_hostile_inputs.py \(kind) failed")
    }

    static func scratch(of path: String) -> URL { TestSupport.scratch(of: path) }

    /// Opens `path` (probe on or off) and reads every member, attribute and dataset.
    static func readEverything(_ path: String, probing: Bool) throws(HDF5Error) {
        let file = try HDF5File.open(path, mode: .readOnly, probing: probing)
        defer { try? file.close() }
        func walk(_ group: String) throws(HDF5Error) {
            for name in try file.attributeNames(of: group) { _ = try file.attribute(name, of: group) }
            for member in try file.memberNames(ofGroup: group) {
                let path = HDF5Library.join(group, member)
                if try file.kind(of: path) == .group { try walk(path) } else { _ = try file.readDoubles(path) }
            }
        }
        try walk("/")
    }

    /// The error for `kind`, with the probe on and off; both must be the same typed error.
    static func refusal(_ kind: String) throws -> (probed: HDF5Error?, unprobed: HDF5Error?, path: String) {
        let path = try craft(kind)
        defer { TestSupport.removeScratch(scratch(of: path)) }
        let probed = #expect(throws: HDF5Error.self) { try readEverything(path, probing: true) }
        let unprobed = #expect(throws: HDF5Error.self) { try readEverything(path, probing: false) }
        return (probed, unprobed, path)
    }

    /// A case group that is an external link into another file: refused, naming the link and
    /// its target, before libhdf5 opens the other file.
    @Test func externalLinkIsRefused() throws {
        let (probed, unprobed, path) = try Self.refusal("external-link")
        let expected = HDF5Error.externalLink(
            file: path, object: "/relu shape=3", target: path + ".target.h5:/relu shape=3")
        #expect(probed == expected)
        #expect(unprobed == expected)
    }

    /// A dataset whose bytes live in /etc/passwd (external raw storage) was read as floats; a
    /// virtual dataset maps its values from other datasets, possibly in other files.
    @Test(arguments: [
        ("external-storage", "in external raw files"),
        ("virtual", "a virtual dataset, mapped from other datasets"),
    ])
    func storageOutsideTheFileIsRefused(kind: String, reason: String) throws {
        let (probed, unprobed, path) = try Self.refusal(kind)
        let expected = HDF5Error.externalStorage(file: path, object: "/relu shape=3/x", reason: reason)
        #expect(probed == expected)
        #expect(unprobed == expected)
        #expect(expected.description.contains("keeps its values outside the file"))
    }

    /// A dataset compressed with a filter libhdf5 lacks printed libhdf5's 600-character
    /// plugin-search stack; it is named by its filter id instead.
    @Test func unavailableFilterIsNamed() throws {
        let (probed, unprobed, path) = try Self.refusal("unavailable-filter")
        let expected = HDF5Error.unavailableFilter(file: path, object: "/relu shape=3/x", filter: 32001)
        #expect(probed == expected)
        #expect(unprobed == expected)
        #expect(expected.description.count < 300 + path.count)
    }

    /// A dangling soft link is a broken link, not a missing object.
    @Test func danglingSoftLinkIsABrokenLink() throws {
        let path = try Self.craft("broken-soft-link")
        defer { TestSupport.removeScratch(Self.scratch(of: path)) }
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        let expected = HDF5Error.brokenLink(file: path, object: "/relu shape=3/y", target: "/nowhere")
        #expect(throws: expected) { try file.exists("/relu shape=3/y") }
        #expect(throws: expected) { try file.readDoubles("/relu shape=3/y") }
        #expect(expected.description.contains("broken link"))
        // The intact dataset beside it still reads.
        #expect(try file.readFloats("/relu shape=3/x").values == [1, -2, 3])
    }

    /// 5,000 root groups (dense link storage): listed in one iteration. One by-index lookup
    /// per name took ≈ 12 s here (and > 200 s for 20,000).
    @Test func manyGroupsAreListedInLinearTime() throws {
        let path = try Self.craft("many-groups", count: 5000)
        defer { TestSupport.removeScratch(Self.scratch(of: path)) }
        let started = Date()
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        let names = try file.memberNames(ofGroup: "/")
        let seconds = Date().timeIntervalSince(started)
        #expect(names.count == 5000 && names.first == "g000000" && names.last == "g004999")
        #expect(names == names.sorted())
        #expect(seconds < 3, "opening and listing 5,000 groups took \(seconds) s")
    }

    /// A never-written chunked dataset claiming 10⁹ float32 elements beside a valid case: the
    /// probe used to allocate and fill 4 GB for it (within the budget at 4 bytes per element);
    /// it now applies the reader's 8-bytes-per-element budget from the dataspace first, and
    /// the reader refuses it before allocating.
    @Test func sparseHugeDatasetIsRefusedFromItsDataspace() throws {
        let path = try Self.craft("sparse-ignored")
        defer { TestSupport.removeScratch(Self.scratch(of: path)) }
        let started = Date()
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        #expect(
            throws: HDF5Error.exceedsMemoryBudget(
                file: path, object: "/junk", shape: [1_000_000_000], bytes: 8_000_000_000, budget: MemoryBudget.bytes)
        ) { try file.readFloats("/junk") }
        #expect(try file.datasetInfo("/junk").shape == [1_000_000_000])
        let seconds = Date().timeIntervalSince(started)
        #expect(seconds < 3, "probing and refusing took \(seconds) s")
    }
}
