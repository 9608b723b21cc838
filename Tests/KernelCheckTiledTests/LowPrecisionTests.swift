import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import Testing

@testable import KernelCheckTiled

// The tiled kernels on inputs stored in bf16, f16, f8e4m3 and f8e5m2 (bit patterns, widened by
// the kernels), output in the storage type or in f32, every direction of matmul, linear, conv
// and transposed conv (1-D, 2-D, 3-D). Each run is checked three ways:
// - against the Float64 sums of the same exact inputs (naive loops, `Naive` for the
//   convolutions): |tiled − exact| ≤ 2γ_K·(|A|·|B|)·(1 + u_out) + u_out·|exact| + s_out/2, with
//   γ_K = K·u/(1 − K·u), u = 2⁻²⁴ (float32 sums of products that are exact in float32), u_out
//   the output type's unit roundoff and s_out its smallest subnormal (0 for odt=f32);
// - every output is a value of odt;
// - bit-identical to `ScalarType.rounded` (exact RNE) applied to the float32 kernel's output on
//   the same values as float32: widening is exact and the sums are the float32 kernel's own.

/// Every non-f32 storage type, with its output in the storage type and in f32.
let narrowPrecisions: [Precision] = ScalarType.allCases.filter { $0 != .f32 }.flatMap {
    [Precision(storage: $0), Precision(storage: $0, output: .f32)]
}

/// Small problems that reach every op and direction, multi-panel GEMMs, the convolution's
/// GEMM and direct paths, groups, strides, dilation, asymmetric and output padding.
let narrowProblems: [String] = [
    "matmul a=2x13x17 b=2x17x35 ta=0 tb=0",
    "matmul a=17x13 b=35x17 ta=1 tb=1",
    "matmul a=3x13x17 b=17x35 ta=0 tb=0",
    "matmul a=40x70 b=70x50 ta=0 tb=0",
    "linear x=2x5x19 out=23 bias=1",
    "linear x=37x70 out=45 bias=0",
    "conv1d n=2 ic=3 oc=5 in=11 k=3 s=2 p=1 bias=1",
    "conv2d n=2 ic=4 oc=6 g=2 in=7x6 k=3x3 s=2x1 d=1x2 p=1x0:2x1 bias=1",
    "conv2d n=2 ic=16 oc=32 in=10x10 k=3x3 p=1 bias=1",
    "conv3d n=1 ic=2 oc=3 in=4x4x3 k=2x2x2 p=1 bias=1",
    "convt1d n=1 ic=3 oc=4 in=6 k=4 s=2 p=1 bias=1",
    "convt2d n=2 ic=4 oc=6 g=2 in=4x5 k=3x3 s=2x2 p=1 op=1x0 bias=1",
]

/// A problem string with `precision`'s fields appended.
func narrowProblem(_ text: String, _ precision: Precision) throws -> Problem {
    try Problem.parse(text + precision.fieldsDescription)
}

@Suite("Low precision")
struct LowPrecisionTests {
    static let seed: UInt64 = 4_711

    @Test(
        "every direction within the bound of the exact sums, values of odt, = rounded float32 kernel",
        arguments: narrowProblems)
    func againstExactSums(text: String) throws {
        for precision in narrowPrecisions {
            let problem = try narrowProblem(text, precision)
            let float32 = try Problem.parse(text)
            for direction in problem.directions {
                check(problem, float32: float32, direction, precision)
            }
        }
    }

    @Test("a GEMM large enough for the shared packed B block (2 threads), A and B both ways round")
    func sharedBlock() throws {
        // 390 rows ≥ 4·mc and 520 columns ≥ 16·nr: `sgemmSharedB` packs B with both threads.
        for (text, type) in [
            ("matmul a=390x20 b=20x520 ta=0 tb=0", ScalarType.bf16), ("matmul a=20x390 b=520x20 ta=1 tb=1", .f8e4m3),
        ] {
            let precision = Precision(storage: type)
            check(try narrowProblem(text, precision), float32: try Problem.parse(text), .fwd, precision)
        }
    }

    func check(_ problem: Problem, float32: Problem, _ direction: Direction, _ precision: Precision) {
        let odt = precision.output
        let context =
            "'\(problem)' \(direction.rawValue) seed \(Self.seed) (replay: swift test --filter LowPrecisionTests)"
        let d = problem.descriptor
        let (inputs, got) = narrowAgainstFloat32(
            problem, float32: float32, direction, precision, seed: Self.seed, context: context
        ) { problem, inputs, out, threads in runNarrow(problem, direction, inputs, out, threads: threads) }
        let outputCount = got.count
        let exact = naiveSums(problem, direction, inputs)
        let magnitude = naiveSums(problem, direction, inputs.map { $0.map(abs) })
        let k = Double(d.accumulationLength(for: direction) + 1)
        let gamma = k * 0x1p-24 / (1 - k * 0x1p-24)
        let uOut = odt == .f32 ? 0 : odt.unitRoundoff
        let floor = odt == .f32 ? 0 : odt.smallestSubnormal / 2
        for i in 0..<outputCount {
            let bound = 2 * gamma * magnitude[i] * (1 + uOut) + uOut * abs(exact[i]) + floor
            let error = abs(Double(got[i]) - exact[i])
            if !(error <= bound) || !odt.represents(got[i]) {
                Issue.record(
                    "\(context): element \(i) = \(got[i]), exact \(exact[i]), error \(error) > bound \(bound) or not a value of \(odt)"
                )
                return
            }
        }
    }
}

/// Runs `problem` on its inputs stored in `precision.storage` (2 threads) and `float32`, the
/// same problem in float32, on the same values (1 thread), both through `run`; records the
/// first element where the narrow result is not the float32 result rounded to the output
/// type (the narrow paths widen exactly and round once). Returns the inputs and the narrow
/// result.
func narrowAgainstFloat32(
    _ problem: Problem, float32: Problem, _ direction: Direction, _ precision: Precision, seed: UInt64,
    context: String, run: (Problem, [Tiled.Input], UnsafeMutablePointer<Float>, Int) -> Void
) -> (inputs: [[Float]], got: [Float]) {
    let (dt, odt) = (precision.storage, precision.output)
    let d = problem.descriptor
    let inputs = d.inputs(for: direction).map { spec in
        TestData.uniform(count(spec.shape), seed: seed, stream: spec.role).map { dt.rounded($0) }
    }
    let outputCount = count(d.output(for: direction).shape)
    let got = withStoredInputs(inputs, dt) { stored in
        withGuardedOutput(outputCount, context) { run(problem, stored, $0, 2) }
    }
    let wide = withPointers(inputs) { pointers in
        withGuardedOutput(outputCount, context) { run(float32, pointers.map(Tiled.Input.init), $0, 1) }
    }
    #expect(outputCount == 0 || wide.contains { $0 != 0 }, "\(context): the float32 kernel gave only zeros")
    // The first differing element only (an #expect over whole arrays would print them all).
    if let i = (0..<outputCount).first(where: { got[$0].bitPattern != odt.rounded(wide[$0]).bitPattern }) {
        Issue.record(
            "\(context): element \(i) = \(got[i]), the float32 kernel's \(wide[i]) rounded to \(odt) is \(odt.rounded(wide[i]))"
        )
    }
    return (inputs, got)
}

/// `body` with each array stored as `type`'s bit patterns (64-byte aligned copies).
func withStoredInputs<R>(_ arrays: [[Float]], _ type: ScalarType, _ body: ([Tiled.Input]) -> R) -> R {
    let buffers = arrays.map { values -> UnsafeMutableRawPointer in
        let bytes = type.encode(values)
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 64)
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return p
    }
    defer { for b in buffers { b.deallocate() } }
    return body(buffers.map { Tiled.Input(bits: UnsafeRawPointer($0), type: type) })
}

/// The tiled entry point of `direction` on `inputs` in `inputs(for:)` order.
func runNarrow(
    _ problem: Problem, _ direction: Direction, _ i: [Tiled.Input], _ out: UnsafeMutablePointer<Float>, threads t: Int
) {
    switch (problem, direction) {
    case (.matmul(let p), .fwd): Tiled.matmulForward(p, a: i[0], b: i[1], y: out, threads: t)
    case (.matmul(let p), .bwdData): Tiled.matmulBackwardA(p, dy: i[0], b: i[1], da: out, threads: t)
    case (.matmul(let p), .bwdWeights): Tiled.matmulBackwardB(p, a: i[0], dy: i[1], db: out, threads: t)
    case (.linear(let p), .fwd):
        Tiled.linearForward(p, x: i[0], w: i[1], b: i.count > 2 ? i[2] : nil, y: out, threads: t)
    case (.linear(let p), .bwdData): Tiled.linearBackwardData(p, dy: i[0], w: i[1], dx: out, threads: t)
    case (.linear(let p), .bwdWeights): Tiled.linearBackwardWeights(p, x: i[0], dy: i[1], dw: out, threads: t)
    case (.linear(let p), .bwdBias): Tiled.linearBackwardBias(p, dy: i[0], db: out, threads: t)
    case (.conv(let p), .fwd): Tiled.convForward(p, x: i[0], w: i[1], b: i.count > 2 ? i[2] : nil, y: out, threads: t)
    case (.conv(let p), .bwdData): Tiled.convBackwardData(p, dy: i[0], w: i[1], dx: out, threads: t)
    case (.conv(let p), .bwdWeights): Tiled.convBackwardWeights(p, x: i[0], dy: i[1], dw: out, threads: t)
    case (.conv(let p), .bwdBias): Tiled.convBackwardBias(p, dy: i[0], db: out, threads: t)
    case (.convTranspose(let p), .fwd):
        Tiled.convTransposeForward(p, x: i[0], w: i[1], b: i.count > 2 ? i[2] : nil, y: out, threads: t)
    case (.convTranspose(let p), .bwdData): Tiled.convTransposeBackwardData(p, dy: i[0], w: i[1], dx: out, threads: t)
    case (.convTranspose(let p), .bwdWeights):
        Tiled.convTransposeBackwardWeights(p, x: i[0], dy: i[1], dw: out, threads: t)
    case (.convTranspose(let p), .bwdBias): Tiled.convTransposeBackwardBias(p, dy: i[0], db: out, threads: t)
    default: Issue.record("no narrow entry point for '\(problem)' \(direction.rawValue)")
    }
}

/// The Float64 sums of `direction` on `inputs` (`inputs(for:)` order), by the ops' formulas.
func naiveSums(_ problem: Problem, _ direction: Direction, _ i: [[Float]]) -> [Double] {
    switch problem {
    case .conv(let p): return naiveLayer(p, direction, i)
    case .convTranspose(let p): return naiveLayer(p, direction, i)
    case .matmul(let p): return naiveMatmul(p, direction, i)
    case .linear(let p): return naiveLinear(p, direction, i)
    default: return []
    }
}

func naiveLayer(_ p: some ConvolutionGeometry & WeightedLayerProblem, _ d: Direction, _ i: [[Float]]) -> [Double] {
    switch d {
    case .fwd: return Naive.forward(p, x: i[0], w: i[1], b: i.count > 2 ? i[2] : nil)
    case .bwdData: return Naive.backwardData(p, dy: i[0], w: i[1])
    case .bwdWeights: return Naive.backwardWeights(p, x: i[0], dy: i[1])
    default: return channelSums(i[0], channels: p.outChannels, spatial: p.outputSize.reduce(1, *))
    }
}

/// `y = x·Wᵀ + b`, `dx = dy·W`, `dW = dyᵀ·x`, `db = Σ_rows dy` on the flattened rows.
func naiveLinear(_ p: LinearProblem, _ d: Direction, _ i: [[Float]]) -> [Double] {
    let (rows, input, output) = (p.rows, p.inFeatures, p.outFeatures)
    switch d {
    case .fwd:
        var y = [Double](repeating: 0, count: rows * output)
        for r in 0..<rows {
            for o in 0..<output {
                var s = i.count > 2 ? Double(i[2][o]) : 0
                for c in 0..<input { s += Double(i[0][r * input + c]) * Double(i[1][o * input + c]) }
                y[r * output + o] = s
            }
        }
        return y
    case .bwdData:
        var dx = [Double](repeating: 0, count: rows * input)
        for r in 0..<rows {
            for c in 0..<input {
                for o in 0..<output { dx[r * input + c] += Double(i[0][r * output + o]) * Double(i[1][o * input + c]) }
            }
        }
        return dx
    case .bwdWeights:
        var dw = [Double](repeating: 0, count: output * input)
        for o in 0..<output {
            for c in 0..<input {
                for r in 0..<rows { dw[o * input + c] += Double(i[1][r * output + o]) * Double(i[0][r * input + c]) }
            }
        }
        return dw
    default:
        return (0..<output).map { o in (0..<rows).reduce(0) { $0 + Double(i[0][$1 * output + o]) } }
    }
}

/// Batched matmul with one batch dim at most, broadcast when an operand has none: `y[β] =
/// op(A)[β]·op(B)[β]`; the gradients summed into each stored matrix over the entries β
/// that read it, stored transposed when the operand is.
func naiveMatmul(_ p: MatmulProblem, _ d: Direction, _ i: [[Float]]) -> [Double] {
    let (m, n, k) = (p.m, p.n, p.k)
    let aBatch = p.batchA.reduce(1, *), bBatch = p.batchB.reduce(1, *)
    let batch = max(aBatch, bBatch)
    /// Stored index of op(A)[β][r, c] and of op(B)[β][r, c].
    func aIndex(_ beta: Int, _ r: Int, _ c: Int) -> Int {
        (aBatch == 1 ? 0 : beta) * m * k + (p.transposeA ? c * m + r : r * k + c)
    }
    func bIndex(_ beta: Int, _ r: Int, _ c: Int) -> Int {
        (bBatch == 1 ? 0 : beta) * k * n + (p.transposeB ? c * k + r : r * n + c)
    }
    switch d {
    case .fwd:
        var y = [Double](repeating: 0, count: batch * m * n)
        for beta in 0..<batch {
            for r in 0..<m {
                for c in 0..<n {
                    for q in 0..<k {
                        y[(beta * m + r) * n + c] += Double(i[0][aIndex(beta, r, q)]) * Double(i[1][bIndex(beta, q, c)])
                    }
                }
            }
        }
        return y
    case .bwdData:
        var da = [Double](repeating: 0, count: aBatch * m * k)
        for beta in 0..<batch {
            for r in 0..<m {
                for q in 0..<k {
                    for c in 0..<n {
                        da[aIndex(beta, r, q)] +=
                            Double(i[0][(beta * m + r) * n + c]) * Double(i[1][bIndex(beta, q, c)])
                    }
                }
            }
        }
        return da
    default:
        var db = [Double](repeating: 0, count: bBatch * k * n)
        for beta in 0..<batch {
            for q in 0..<k {
                for c in 0..<n {
                    for r in 0..<m {
                        db[bIndex(beta, q, c)] +=
                            Double(i[0][aIndex(beta, r, q)]) * Double(i[1][(beta * m + r) * n + c])
                    }
                }
            }
        }
        return db
    }
}
