import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference

@testable import KernelCheckVerification

/// Test-only kernels for the low-precision bounds, all built on the Float64 reference: two
/// honest ones and two with a planted bug each (docs/design.md, "Bounds per precision").
enum LowPrecisionKernel: String, CaseIterable, Sendable {
    /// Honest: the reference's Float64 result rounded to Float, then to odt with
    /// `ScalarType.rounded` (two roundings, as a kernel that keeps an f32 result and converts
    /// it would do).
    case roundedReference
    /// Bug: the reference's result cut toward zero when stored to odt (truncation, not RNE).
    case truncatedOutput
    /// A real f16 accumulator: every partial sum rounded to f16 (`s ← f16(s + aᵢ·bᵢ)`), then
    /// the output rounded to odt. Honest when the problem declares `acc=f16`; a planted bug
    /// when it declares `acc=f32`.
    case f16Accumulator
}

struct LowPrecisionImplementation: KernelImplementation {
    let kernel: LowPrecisionKernel
    var name: String { "lowp-\(kernel.rawValue)" }

    func supports(_ problem: Problem, _ direction: Direction) -> Bool {
        guard problem.directions.contains(direction) else { return false }
        return kernel != .f16Accumulator || Self.hasF16Loops(problem, direction)
    }

    func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        try problem.checkCase(direction, inputs: inputs, outputCount: output.count)
        try problem.checkInputValues(inputs)
        let exact = inputs.mapValues { $0.converted(to: Double.self) }
        let odt = problem.descriptor.precision.output
        do {
            switch kernel {
            case .roundedReference:
                let y = try Reference.run(problem, direction, inputs: exact)
                for i in 0..<y.count { output[i] = odt.rounded(Float(y.storage[i])) }
            case .truncatedOutput:
                let y = try Reference.run(problem, direction, inputs: exact)
                for i in 0..<y.count { output[i] = Self.truncated(y.storage[i], to: odt) }
            case .f16Accumulator:
                let y = Self.f16Sums(problem, direction, exact)
                for i in 0..<y.count { output[i] = odt.roundedOnce(y[i]) }
            }
        } catch {
            throw .failed(implementation: name, problem: problem.description, reason: "\(error)")
        }
    }

    /// `x` rounded toward zero to `type` (the planted bug: a conversion that drops bits).
    static func truncated(_ x: Double, to type: ScalarType) -> Float {
        if type == .f32 || !x.isFinite || x == 0 { return Float(x) }
        let exponent = max(Int(x.exponent), type.minimumNormalExponent)
        let quantum = Double(sign: .plus, exponent: exponent - type.significandBits + 1, significand: 1)
        let r = (x / quantum).rounded(.towardZero) * quantum
        return Swift.abs(r) > type.largestFinite ? Float(x < 0 ? -type.largestFinite : type.largestFinite) : Float(r)
    }

    /// The directions the f16-accumulating kernel is written for: every direction of conv,
    /// transposed conv and linear, matmul forward (with broadcast batch dimensions).
    static func hasF16Loops(_ problem: Problem, _ direction: Direction) -> Bool {
        switch (problem, direction) {
        case (.conv, _), (.convTranspose, _), (.linear, _), (.matmul, .fwd): return true
        default: return false
        }
    }

    /// A convolution's direction with f16 partial sums: the products in the order
    /// `forEachProduct` lists them (the reference's own order), each added to its output
    /// element's running f16 sum; the bias last.
    static func f16Products<P: ConvolutionGeometry>(
        _ p: P, _ direction: Direction, _ t: [String: Tensor<Double>]
    ) -> [Double] {
        func add(_ s: inout Double, _ v: Double) { s = Double(ScalarType.f16.roundedOnce(s + v)) }
        let channels = p.yShape.count > 1 ? p.yShape[1] : 1
        let spatial = p.yShape.dropFirst(2).reduce(1, *)
        switch direction {
        case .fwd:
            let x = t["x"]!.storage, w = t["w"]!.storage
            var y = [Double](repeating: 0, count: p.yShape.reduce(1, *))
            p.forEachProduct { yi, xi, wi in add(&y[yi], x[xi] * w[wi]) }
            if let b = t["b"]?.storage {
                for i in y.indices { add(&y[i], b[(i / max(spatial, 1)) % max(channels, 1)]) }
            }
            return y
        case .bwdData:
            let dy = t["dy"]!.storage, w = t["w"]!.storage
            var dx = [Double](repeating: 0, count: p.xShape.reduce(1, *))
            p.forEachProduct { yi, xi, wi in add(&dx[xi], w[wi] * dy[yi]) }
            return dx
        case .bwdWeights:
            let dy = t["dy"]!.storage, x = t["x"]!.storage
            var dw = [Double](repeating: 0, count: p.wShape.reduce(1, *))
            p.forEachProduct { yi, xi, wi in add(&dw[wi], x[xi] * dy[yi]) }
            return dw
        default:
            let dy = t["dy"]!.storage
            var db = [Double](repeating: 0, count: channels)
            for i in dy.indices { add(&db[(i / max(spatial, 1)) % max(channels, 1)], dy[i]) }
            return db
        }
    }

    /// The direction's output summed term by term in order with every partial sum rounded to
    /// f16 (`s ← f16(s + aᵢ·bᵢ)`, the product exact as in an FMA), the bias last.
    static func f16Sums(_ problem: Problem, _ direction: Direction, _ t: [String: Tensor<Double>]) -> [Double] {
        func sum(_ count: Int, start: Double = 0, _ term: (Int) -> Double) -> Double {
            var s = 0.0
            for i in 0..<count { s = Double(ScalarType.f16.roundedOnce(s + term(i))) }
            return start == 0 ? s : Double(ScalarType.f16.roundedOnce(s + start))
        }
        switch (problem, direction) {
        case (.conv(let p), _): return f16Products(p, direction, t)
        case (.convTranspose(let p), _): return f16Products(p, direction, t)
        case (.linear(let p), _):
            let rows = p.rows, inF = p.inFeatures, outF = p.outFeatures
            let dy = t["dy"]?.storage ?? [], x = t["x"]?.storage ?? [], w = t["w"]?.storage ?? []
            switch direction {
            case .fwd:
                let b = t["b"]?.storage
                return (0..<rows * outF).map { ro in
                    let (r, o) = ro.quotientAndRemainder(dividingBy: outF)
                    return sum(inF, start: b?[o] ?? 0) { x[r * inF + $0] * w[o * inF + $0] }
                }
            case .bwdData:
                return (0..<rows * inF).map { ri in
                    let (r, i) = ri.quotientAndRemainder(dividingBy: inF)
                    return sum(outF) { dy[r * outF + $0] * w[$0 * inF + i] }
                }
            case .bwdWeights:
                return (0..<outF * inF).map { oi in
                    let (o, i) = oi.quotientAndRemainder(dividingBy: inF)
                    return sum(rows) { dy[$0 * outF + o] * x[$0 * inF + i] }
                }
            default:
                return (0..<outF).map { o in sum(rows) { dy[$0 * outF + o] } }
            }
        case (.matmul(let p), .fwd):
            let a = t["a"]!.storage, b = t["b"]!.storage
            let (m, n, k) = (p.m, p.n, p.k)
            let batch = p.batchShape ?? []
            /// The flat batch offset of an operand with batch dims `dims` (right-aligned,
            /// broadcast where 1) for the output batch coordinates `c`.
            func offset(_ dims: [Int], _ c: [Int]) -> Int {
                var index = 0
                for (j, d) in dims.enumerated() { index = index * d + (d == 1 ? 0 : c[c.count - dims.count + j]) }
                return index
            }
            var out: [Double] = []
            for beta in 0..<max(p.batchCount, 1) where p.batchCount > 0 {
                let c = Comparison.coordinates(ofFlatIndex: beta, shape: batch)
                let aBase = offset(p.batchA, c) * m * k, bBase = offset(p.batchB, c) * k * n
                for i in 0..<m {
                    for j in 0..<n {
                        out.append(
                            sum(k) { kk in
                                a[aBase + (p.transposeA ? kk * m + i : i * k + kk)]
                                    * b[bBase + (p.transposeB ? j * k + kk : kk * n + j)]
                            })
                    }
                }
            }
            return out
        default:
            return []
        }
    }
}
