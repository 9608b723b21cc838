import KernelCheckCore
import KernelCheckProblems

/// Shrinks a failing problem to a small one that still fails (QuickCheck-style, greedy).
///
/// `candidates(p)` lists simpler variants of `p` — biggest simplifications first (drop a
/// spatial or batch dimension, set a size to its minimum, halve it, then decrement it) — and
/// keeps only those that are **valid** (`validate()` passes) and have a strictly smaller
/// `measure`. `shrink` repeatedly moves to the first candidate for which the predicate still
/// fails. Because the measure is a non-negative integer that strictly decreases with every
/// move, shrinking terminates; `maxSteps` bounds it further.
///
/// Every family keeps its op and kind (a failing `tanh` shrinks to a smaller `tanh`, never to
/// a `relu`); the leaky-ReLU slope and BatchNorm ε are kept as they are.
public enum Shrinker {
    /// The complexity that shrinking decreases: the sum of the descriptor's integer fields
    /// (batch, channels, groups, every spatial size, kernel, stride, dilation, output
    /// padding, matrix and batch dims, before/after), plus one per spatial or tensor
    /// dimension (rank), one per flag that is on (bias, transposes), and the padding:
    /// `valid` 0, explicit `2·Σ(begin + end) + 1`, `same` twice its resolved padding + 2,
    /// `same_lower` + 3 (so explicit zeros → `valid` and `same` → its explicit form shrink).
    ///
    /// Why fields and not tensor sizes: moving a stride toward 1 or removing padding
    /// simplifies a problem but can *grow* its output tensor, so element counts do not
    /// decrease along the simplifications we want. Padding counts double so that folding it
    /// into the input (`in + pb + pe` with `valid`) is itself a simplification.
    public static func measure(_ p: Problem) -> Int {
        switch p {
        case .conv(let c):
            return c.batch + c.inChannels + c.outChannels + c.groups + sum(c.inputSize) + sum(c.kernel) + sum(c.stride)
                + sum(c.dilation) + c.spatialRank + (c.hasBias ? 1 : 0)
                + paddingWeight(c.padding, resolved: c.resolvedPadding)
        case .convTranspose(let c):
            return c.batch + c.inChannels + c.outChannels + c.groups + sum(c.inputSize) + sum(c.kernel) + sum(c.stride)
                + sum(c.dilation) + sum(c.outputPadding) + c.spatialRank + (c.hasBias ? 1 : 0)
                + paddingWeight(c.padding, resolved: c.resolvedPadding)
        case .padProjectionA(let a):
            return a.batch + a.channels + sum(a.inputSize) + sum(a.stride) + a.before + a.after + a.inputSize.count
        case .padProjectionB(let b):
            return b.batch + b.inChannels + b.outChannels + sum(b.inputSize) + sum(b.stride) + b.inputSize.count
        case .matmul(let m):
            return sum(m.aShape) + sum(m.bShape) + m.aShape.count + m.bShape.count + (m.transposeA ? 1 : 0)
                + (m.transposeB ? 1 : 0)
        case .linear(let l):
            return sum(l.xShape) + l.xShape.count + l.outFeatures + (l.hasBias ? 1 : 0)
        case .activation(let a):
            return sum(a.shape) + a.shape.count
        case .loss(let l):
            return sum(l.shape) + l.shape.count
        }
    }

    /// Strictly simpler valid variants of `p`, most aggressive first, without duplicates.
    public static func candidates(_ p: Problem) -> [Problem] {
        let raw: [any ProblemDescriptor]
        switch p {
        case .conv(let c): raw = convCandidates(c)
        case .convTranspose(let c): raw = convTransposeCandidates(c)
        case .padProjectionA(let a): raw = padProjectionACandidates(a)
        case .padProjectionB(let b): raw = padProjectionBCandidates(b)
        case .matmul(let m): raw = matmulCandidates(m)
        case .linear(let l): raw = linearCandidates(l)
        case .activation(let a):
            raw = shapeCandidates(a.shape).map { ActivationProblem(a.kind, shape: $0) }
        case .loss(let l):
            raw = shapeCandidates(l.shape).map { LossProblem(l.kind, shape: $0) }
        }
        let limit = measure(p)
        var seen = Set<Problem>()
        var out: [Problem] = []
        for d in raw {
            guard let q = try? Problem(d), measure(q) < limit, seen.insert(q).inserted else { continue }
            out.append(q)
        }
        return out
    }

    /// Greedy shrinking: while some candidate still fails, move to the first one. Returns
    /// the last failing problem and the number of moves made (at most `maxSteps`).
    /// `stillFails` should return `true` when the property still fails on its argument.
    public static func shrink(
        _ p: Problem, maxSteps: Int = 1_000, stillFails: (Problem) throws -> Bool
    ) rethrows -> (problem: Problem, steps: Int) {
        var current = p
        var steps = 0
        search: while steps < maxSteps {
            for q in candidates(current) where try stillFails(q) {
                current = q
                steps += 1
                continue search
            }
            break
        }
        return (current, steps)
    }

    // MARK: - Per-family candidates

    static func convCandidates(_ c: ConvProblem) -> [ConvProblem] {
        var out = convolutionCandidates(c)
        out += spatialCandidates(c, \.stride, floor: 1)
        out += spatialCandidates(c, \.dilation, floor: 1)
        // Explicit padding can also fold into the input (same output size, no padding).
        var fold = c
        if case .explicit(let b, let e) = c.padding {
            fold.inputSize = (0..<c.spatialRank).map { c.inputSize[$0] + b[$0] + e[$0] }
            fold.padding = .valid
        }
        out += paddingCandidates(c, folded: fold)
        out += spatialCandidates(c, \.inputSize, floor: 0)
        return out
    }

    static func convTransposeCandidates(_ c: ConvTransposeProblem) -> [ConvTransposeProblem] {
        var out = convolutionCandidates(c, alsoDropping: [\.outputPadding])
        out += spatialCandidates(c, \.outputPadding, floor: 0)
        out += spatialCandidates(c, \.stride, floor: 1)
        out += spatialCandidates(c, \.dilation, floor: 1)
        out += paddingCandidates(c, folded: nil)
        out += spatialCandidates(c, \.inputSize, floor: 1)
        return out
    }

    /// What both convolutions try first: a spatial dimension dropped (from `alsoDropping` and
    /// explicit padding too), a smaller batch, fewer groups with the same channels per group
    /// (always legal) and then plain fewer groups, fewer channels (multiples of the group
    /// count), no bias, a smaller kernel.
    static func convolutionCandidates<C: ShrinkableConvolution>(
        _ c: C, alsoDropping: [WritableKeyPath<C, [Int]>] = []
    ) -> [C] {
        var out = droppedDimensions(c, [\.inputSize, \.kernel, \.stride, \.dilation] + alsoDropping) { q, i in
            q.padding = dropping(i, from: c.padding)
        }
        out += fieldCandidates(c, \.batch, floor: 0)
        for g in 1..<max(c.groups, 1) {
            var q = c
            q.groups = g; q.inChannels = c.inChannels / c.groups * g; q.outChannels = c.outChannels / c.groups * g
            out.append(q)
            var r = c
            r.groups = g
            out.append(r)
        }
        for v in smallerMultiples(c.inChannels, of: c.groups) { var q = c; q.inChannels = v; out.append(q) }
        for v in smallerMultiples(c.outChannels, of: c.groups) { var q = c; q.outChannels = v; out.append(q) }
        if c.hasBias { var q = c; q.hasBias = false; out.append(q) }
        out += spatialCandidates(c, \.kernel, floor: 1)
        return out
    }

    /// Simpler padding: `same` / `same_lower` → `valid`, `same_lower` → `same`, either → its
    /// explicit form; explicit → `folded` (when given), `valid`, or one entry lowered.
    static func paddingCandidates<C: ShrinkableConvolution>(_ c: C, folded: C?) -> [C] {
        var out: [C] = []
        switch c.padding {
        case .valid: break
        case .same, .sameLower:
            var q = c; q.padding = .valid; out.append(q)
            if c.padding == .sameLower { var r = c; r.padding = .same; out.append(r) }
            var e = c; e.padding = .explicit(begin: c.padBegin, end: c.padEnd); out.append(e)
        case .explicit(let b, let e):
            if let folded { out.append(folded) }
            var q = c; q.padding = .valid; out.append(q)
            out += explicitPaddingCandidates(b, e).map {
                var r = c; r.padding = $0; return r
            }
        }
        return out
    }

    static func padProjectionACandidates(_ a: PadProjectionAProblem) -> [PadProjectionAProblem] {
        var out = droppedDimensions(a, [\.inputSize, \.stride])
        for field in [\PadProjectionAProblem.batch, \.channels, \.before, \.after] {
            out += fieldCandidates(a, field, floor: 0)
        }
        out += spatialCandidates(a, \.stride, floor: 1)
        out += spatialCandidates(a, \.inputSize, floor: 0)
        return out
    }

    static func padProjectionBCandidates(_ b: PadProjectionBProblem) -> [PadProjectionBProblem] {
        var out = droppedDimensions(b, [\.inputSize, \.stride])
        for field in [\PadProjectionBProblem.batch, \.inChannels, \.outChannels] {
            out += fieldCandidates(b, field, floor: 0)
        }
        out += spatialCandidates(b, \.stride, floor: 1)
        out += spatialCandidates(b, \.inputSize, floor: 1)
        return out
    }

    static func matmulCandidates(_ m: MatmulProblem) -> [MatmulProblem] {
        var out: [MatmulProblem] = []
        let ra = m.aShape.count, rb = m.bShape.count
        // Drop a batch dimension of either operand (one side at a time: different batch ranks).
        for i in 0..<max(ra - 2, 0) { var q = m; q.aShape.remove(at: i); out.append(q) }
        for i in 0..<max(rb - 2, 0) { var q = m; q.bShape.remove(at: i); out.append(q) }
        // Drop the whole batch of both operands.
        if ra > 2 || rb > 2 {
            var q = m; q.aShape = Array(m.aShape.suffix(2)); q.bShape = Array(m.bShape.suffix(2)); out.append(q)
        }
        // Untranspose (the stored shape swaps its last two dims, op(A) stays the same).
        if m.transposeA { var q = m; q.transposeA = false; q.aShape.swapAt(ra - 2, ra - 1); out.append(q) }
        if m.transposeB { var q = m; q.transposeB = false; q.bShape.swapAt(rb - 2, rb - 1); out.append(q) }
        // A matrix operand without batch dims becomes a vector holding only K (op(A) = 1×K,
        // op(B) = K×1): torch.matmul's 1-D operands, simpler than any matrix.
        if ra == 2 { var q = m; q.aShape = [m.k]; q.transposeA = false; out.append(q) }
        if rb == 2 { var q = m; q.bShape = [m.k]; q.transposeB = false; out.append(q) }
        // Batch dims, one at a time (1 makes a dimension broadcast; validation keeps it legal).
        for i in 0..<max(ra - 2, 0) {
            for v in smaller(m.aShape[i], floor: 0) { var q = m; q.aShape[i] = v; out.append(q) }
        }
        for i in 0..<max(rb - 2, 0) {
            for v in smaller(m.bShape[i], floor: 0) { var q = m; q.bShape[i] = v; out.append(q) }
        }
        // M, N, K (K in both operands). A 1-D operand (a vector, never transposed) holds only K.
        let aM = ra - (m.transposeA ? 1 : 2), aK = ra - (m.transposeA ? 2 : 1)
        let bK = rb == 1 ? 0 : rb - (m.transposeB ? 1 : 2), bN = rb - (m.transposeB ? 2 : 1)
        if ra >= 2 { for v in smaller(m.m, floor: 0) { var q = m; q.aShape[aM] = v; out.append(q) } }
        if rb >= 2 { for v in smaller(m.n, floor: 0) { var q = m; q.bShape[bN] = v; out.append(q) } }
        for v in smaller(m.k, floor: 0) { var q = m; q.aShape[aK] = v; q.bShape[bK] = v; out.append(q) }
        return out
    }

    static func linearCandidates(_ l: LinearProblem) -> [LinearProblem] {
        var out: [LinearProblem] = []
        for i in 0..<max(l.xShape.count - 1, 0) { var q = l; q.xShape.remove(at: i); out.append(q) }
        if l.hasBias { var q = l; q.hasBias = false; out.append(q) }
        for v in smaller(l.outFeatures, floor: 0) { var q = l; q.outFeatures = v; out.append(q) }
        for i in l.xShape.indices {
            for v in smaller(l.xShape[i], floor: 0) { var q = l; q.xShape[i] = v; out.append(q) }
        }
        return out
    }

    /// Shapes of elementwise ops: drop a dimension, then lower one.
    static func shapeCandidates(_ shape: [Int]) -> [[Int]] {
        var out: [[Int]] = []
        for i in shape.indices { var s = shape; s.remove(at: i); out.append(s) }
        for i in shape.indices { for v in smaller(shape[i], floor: 0) { var s = shape; s[i] = v; out.append(s) } }
        return out
    }

    // MARK: - Helpers

    static func sum(_ a: [Int]) -> Int { a.reduce(0, +) }

    static func paddingWeight(_ p: Padding, resolved: (begin: [Int], end: [Int])) -> Int {
        let total = 2 * (sum(resolved.begin) + sum(resolved.end))
        switch p {
        case .valid: return 0
        case .explicit: return total + 1
        case .same: return total + 2
        case .sameLower: return total + 3
        }
    }

    /// Values below `v` and at least `floor`: the floor, half way, and one less.
    static func smaller(_ v: Int, floor: Int) -> [Int] {
        guard v > floor else { return [] }
        var out = [floor]
        let half = floor + (v - floor) / 2
        if half > floor && half < v { out.append(half) }
        if v - 1 > floor && v - 1 != half { out.append(v - 1) }
        return out
    }

    /// Multiples of `g` below `v`: 0, g, about half, and `v − g`.
    static func smallerMultiples(_ v: Int, of g: Int) -> [Int] {
        guard g >= 1 else { return [] }
        return smaller(v / g, floor: 0).map { $0 * g }
    }

    /// The same problem with the integer at `path` lowered.
    static func fieldCandidates<P>(_ p: P, _ path: WritableKeyPath<P, Int>, floor: Int) -> [P] {
        smaller(p[keyPath: path], floor: floor).map {
            var q = p; q[keyPath: path] = $0; return q
        }
    }

    /// With more than one spatial dimension, for each one the same problem without it: the
    /// entry removed from every list in `lists` (the first is the input size), then `adjust`
    /// applied with the dimension's index.
    static func droppedDimensions<P>(
        _ p: P, _ lists: [WritableKeyPath<P, [Int]>],
        adjust: (inout P, Int) -> Void = { _, _ in }
    ) -> [P] {
        let rank = p[keyPath: lists[0]].count
        guard rank > 1 else { return [] }
        return (0..<rank).map { i in
            var q = p
            for list in lists { q[keyPath: list].remove(at: i) }
            adjust(&q, i)
            return q
        }
    }

    /// For each spatial dimension, the same problem with that entry of `path` lowered.
    static func spatialCandidates<P>(_ p: P, _ path: WritableKeyPath<P, [Int]>, floor: Int) -> [P] {
        var out: [P] = []
        for i in p[keyPath: path].indices {
            for v in smaller(p[keyPath: path][i], floor: floor) {
                var q = p; q[keyPath: path][i] = v; out.append(q)
            }
        }
        return out
    }

    static func explicitPaddingCandidates(_ b: [Int], _ e: [Int]) -> [Padding] {
        var out: [Padding] = []
        for i in b.indices {
            for v in smaller(b[i], floor: 0) { var nb = b; nb[i] = v; out.append(.explicit(begin: nb, end: e)) }
            for v in smaller(e[i], floor: 0) { var ne = e; ne[i] = v; out.append(.explicit(begin: b, end: ne)) }
        }
        return out
    }

    static func dropping(_ i: Int, from p: Padding) -> Padding {
        guard case .explicit(var b, var e) = p else { return p }
        b.remove(at: i); e.remove(at: i)
        return .explicit(begin: b, end: e)
    }
}

/// The fields of a convolution the shrinker lowers (both convolutions store them as `var`s).
protocol ShrinkableConvolution: ConvolutionGeometry {
    var batch: Int { get set }
    var inChannels: Int { get set }
    var outChannels: Int { get set }
    var groups: Int { get set }
    var inputSize: [Int] { get set }
    var kernel: [Int] { get set }
    var stride: [Int] { get set }
    var dilation: [Int] { get set }
    var padding: Padding { get set }
    var hasBias: Bool { get set }
    var padBegin: [Int] { get }
    var padEnd: [Int] { get }
}

extension ConvProblem: ShrinkableConvolution {}
extension ConvTransposeProblem: ShrinkableConvolution {}
