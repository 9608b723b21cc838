import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference

@testable import KernelCheckVerification

/// Deliberately broken kernels, each carrying one classic bug, used to prove the engine bites:
/// every one must be caught, shrunk and reported with a replay that reproduces it.
enum Bug: String, CaseIterable, Sendable {
    /// Conv forward reads the input one pixel off: begin padding + 1 (end − 1, same size).
    case paddingOffByOne
    /// Matmul forward whose K loop drops the remainder after the last full tile of 4.
    case wrongTileEdge
    /// Conv forward that forgets the bias.
    case missingBias
    /// Conv backward-data with the kernel taps not mirrored (w used un-flipped in the scatter).
    case transposedKernel
    /// Any op: a correct result plus one write one element past the end of the output.
    case writePastEnd
    /// MSE whose reduction order depends on a global counter: the bits change run to run.
    case nondeterministicReduction

    var family: OpFamily {
        switch self {
        case .paddingOffByOne, .missingBias, .transposedKernel: return .conv
        case .wrongTileEdge: return .matmul
        case .writePastEnd: return .linear
        case .nondeterministicReduction: return .loss
        }
    }

    var direction: Direction {
        switch self {
        case .transposedKernel: return .bwdData
        default: return .fwd
        }
    }

    var mode: ComparisonMode { self == .nondeterministicReduction ? .bound : .exact }
}

final class Counter: @unchecked Sendable { var value = 0 }

struct BrokenImplementation: KernelImplementation {
    let bug: Bug
    let counter = Counter()
    var name: String { "broken-\(bug.rawValue)" }

    func supports(_ problem: Problem, _ direction: Direction) -> Bool {
        problem.family == bug.family && direction == bug.direction
    }

    func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        var result: Tensor<Double>
        let t = inputs.mapValues { $0.converted(to: Double.self) }
        switch (bug, problem) {
        case (.paddingOffByOne, .conv(let p)):
            var shifted = p
            let (b, e) = p.resolvedPadding
            // Only where the end has room to give a pixel to the beginning (same output size).
            shifted.padding = .explicit(begin: zip(b, e).map { $1 > 0 ? $0 + 1 : $0 }, end: e.map { max($0 - 1, 0) })
            result = Reference.convForward(shifted, x: t["x"]!, w: t["w"]!, b: t["b"])
        case (.missingBias, .conv(let p)):
            result = Reference.convForward(p, x: t["x"]!, w: t["w"]!, b: nil)
        case (.transposedKernel, .conv(let p)):
            var flipped = t["w"]!
            let taps = p.kernel.reduce(1, *)
            for block in 0..<(flipped.count / max(taps, 1)) {
                let base = block * taps
                for i in 0..<taps { flipped.storage[base + i] = t["w"]!.storage[base + taps - 1 - i] }
            }
            result = Reference.convBackwardData(p, dy: t["dy"]!, w: flipped)
        case (.wrongTileEdge, .matmul(let p)):
            var truncated = t["a"]!, tb = t["b"]!
            // Zeroing A's and B's K-tail entries == a K loop that stops at ⌊K/4⌋·4.
            let kFull = p.k / 4 * 4
            for i in 0..<truncated.count {
                let kIndex = p.transposeA ? (i / p.m) % p.k : i % p.k
                if kIndex >= kFull { truncated.storage[i] = 0 }
            }
            _ = tb
            result = Reference.matmulForward(p, a: truncated, b: t["b"]!)
        case (.writePastEnd, _):
            result = try! Reference.run(problem, direction, inputs: t)
            (output.baseAddress! + output.count).pointee = 0
        case (.nondeterministicReduction, .loss(let p)):
            counter.value += 1
            let x = inputs["x"]!.storage, target = inputs["target"]!.storage
            var order = Array(0..<x.count)
            if counter.value % 2 == 0 { order.reverse() }
            var sum: Float = 0
            for i in order { sum += (x[i] - target[i]) * (x[i] - target[i]) }
            if p.kind == .mse { sum /= Float(max(x.count, 1)) }
            output[0] = sum
            return
        default:
            throw .unsupported(implementation: name, problem: problem.description, direction: direction)
        }
        for i in 0..<output.count { output[i] = Float(result.storage[i]) }
    }
}
