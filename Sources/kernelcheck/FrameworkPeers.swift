import Foundation
import KernelCheckVerification

/// `nightly --peers torch,onnxruntime`: the frameworks' own CPU kernels, checked through their
/// adapters in `tools/adapters/` as `exec:` workers, so that a regression in a framework
/// release shows up in the nightly report beside the built-in implementations.
enum FrameworkPeers {
    /// Peer name → adapter script under the repository root.
    static let adapters: [(name: String, script: String)] = [
        ("torch", "tools/adapters/torch_cpu.py"), ("onnxruntime", "tools/adapters/onnxruntime.py"),
    ]

    /// The `exec:` implementation names for a comma-separated peer list. The script path is
    /// relative when the working directory is the repository root, so that report rows keep
    /// the same implementation name from one machine to the next.
    static func implementationNames(_ list: String) throws -> [String] {
        let root = RepositoryPaths.root
        let relative = FileManager.default.currentDirectoryPath == root
        return try list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { name in
            guard let script = adapters.first(where: { $0.name == name })?.script else {
                throw BadInput(
                    "unknown peer '\(name)' in --peers; known: \(adapters.map(\.name).joined(separator: ", "))")
            }
            return "exec:python3 " + (relative ? script : ShellQuote.quote(root + "/" + script))
        }
    }
}
