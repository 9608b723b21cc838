import Foundation

/// The data caches of core 0 in bytes, as the kernel lists them in sysfs; levels the OS
/// does not report take the sizes of a Zen 4 core (32 KiB, 1 MiB, 32 MiB), which the
/// blocking was first tuned on.
public struct CacheSizes: Sendable, Equatable, Codable {
    public var l1d: Int
    public var l2: Int
    public var l3: Int

    /// Zen 4: 32 KiB L1d, 1 MiB L2, 32 MiB L3 per CCD.
    public static let zen4 = CacheSizes(l1d: 32 << 10, l2: 1 << 20, l3: 32 << 20)

    /// This machine's caches, read once per process.
    public static let current = CacheSizes.detect()

    static func detect() -> CacheSizes {
        var sizes = zen4
        for (level, type, bytes) in sysfsEntries() where type != "Instruction" {
            switch level {
            case 1: sizes.l1d = bytes
            case 2: sizes.l2 = bytes
            case 3: sizes.l3 = bytes
            default: break
            }
        }
        return sizes
    }

    /// `(level, type, bytes)` of each cache of cpu0 (`index0` … `index7`).
    static func sysfsEntries() -> [(level: Int, type: String, bytes: Int)] {
        let base = "/sys/devices/system/cpu/cpu0/cache"
        return (0..<8).compactMap { index in
            func read(_ name: String) -> String? {
                (try? String(contentsOfFile: "\(base)/index\(index)/\(name)", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let level = read("level").flatMap({ Int($0) }), let type = read("type"),
                let bytes = read("size").flatMap(parseSize)
            else { return nil }
            return (level, type, bytes)
        }
    }

    /// `48K` → 49152, `2M` → 2097152, `512` → 512; nil for anything else.
    static func parseSize(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        guard let last = text.last else { return nil }
        if let unit = units[last] { return Int(text.dropLast()).map { $0 * unit } }
        return Int(text)
    }
}
