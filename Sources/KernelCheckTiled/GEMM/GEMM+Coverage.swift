import KernelCheckProblems

// Path and threshold coverage of `Tiled.sgemm` (and of matmul and linear, which call it):
// the dispatcher's own rules (`prefersTransposedProblem`, `prefersSharedB`, `GEMMSplit`,
// `directBMaxRows`, `forEachBatch`) replayed on the shape, never counted inside the loops.

/// The ways `Tiled.sgemm` runs a product.
public enum GEMMPath: String, CaseIterable, Sendable, Codable {
    /// `m`, `n` or `k` is 0: C is left alone or zeroed, nothing is multiplied.
    case empty
    /// B untransposed and at most `directBMaxRows` rows per C block: B's panels are read in
    /// place, only a partial last panel is packed.
    case inPlaceB
    /// Both operands packed (BLIS loop nest `sgemmBlocked`).
    case packedB
    /// A narrow C computed as `Cᵀ = op(B)ᵀ·op(A)ᵀ` (`prefersTransposedProblem`), every tile
    /// merged through a scratch tile.
    case transposedC
    /// Large C on several threads sharing one packed B block (`sgemmSharedB`).
    case sharedB

    /// The boundaries this path can cross.
    var boundaries: [CoverageBoundary] {
        switch self {
        case .empty: []
        case .inPlaceB, .packedB: [.kPastKc, .nPastNc, .mPastMc, .threadSplit, .edgeTiles]
        // A transposed C has n < nr columns: after the swap its rows (n) never pass mc.
        case .transposedC: [.kPastKc, .nPastNc, .threadSplit, .edgeTiles]
        // Shared B needs rows ≥ 4·mc and threads > 1, so M past mc and a split always hold.
        case .sharedB: [.kPastKc, .nPastNc, .edgeTiles]
        }
    }
}

extension Tiled {
    /// Most C rows per thread block for which `sgemm` reads an untransposed B in place.
    public static var inPlaceBMaxRows: Int { directBMaxRows }

    /// The path and boundaries of `sgemm(transA:transB:m:n:k:…threads:)`.
    public static func sgemmCoverage(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, threads: Int
    ) -> (path: GEMMPath, boundaries: Set<CoverageBoundary>) {
        guard m > 0 && n > 0 && k > 0 else { return (.empty, []) }
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let transposed = prefersTransposedProblem(m: m, n: n)
        let (rows, columns) = transposed ? (n, m) : (m, n)
        // After the swap B is op(A)ᵀ, stored transposed exactly when A was not.
        let bTransposed = transposed ? !transA : transB
        var b: Set<CoverageBoundary> = []
        if k > GEMMBlocking.kc { b.insert(.kPastKc) }
        if rows % mr != 0 || columns % nr != 0 { b.insert(.edgeTiles) }
        let requested = resolveThreads(threads)
        let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k)
        let small = !work.overflow && work.partialValue < sgemmParallelThreshold
        if !small && prefersSharedB(rows: rows, columns: columns, threads: requested) {
            let parts = max(1, min(requested, (rows + mr - 1) / mr))
            if parts > 1 { b.insert(.threadSplit) }
            // Each thread runs whole row tiles of C through `macroBlock`'s mc loop.
            if (rows + mr - 1) / mr / parts * mr > GEMMBlocking.mc { b.insert(.mPastMc) }
            if columns > GEMMBlocking.nc { b.insert(.nPastNc) }
            return (.sharedB, b)
        }
        let split = GEMMSplit(m: rows, n: columns, threads: small ? 1 : requested, inPlaceB: !bTransposed)
        if split.count > 1 { b.insert(.threadSplit) }
        var inPlace = false
        for part in 0..<split.count {
            let r = split.rows(part), c = split.columns(part)
            guard !r.isEmpty && !c.isEmpty else { continue }
            if r.count > GEMMBlocking.mc { b.insert(.mPastMc) }
            if c.count > GEMMBlocking.nc { b.insert(.nPastNc) }
            if !bTransposed && r.count <= directBMaxRows { inPlace = true }
        }
        return (transposed ? .transposedC : inPlace ? .inPlaceB : .packedB, b)
    }

    /// `matmulForward` / `matmulBackwardA` (`bwd_data`) / `matmulBackwardB` (`bwd_weights`):
    /// the batch entries' GEMMs (all the same shape) and the batch split of `forEachBatch`.
    static func matmulCoverage(_ p: MatmulProblem, _ direction: Direction, threads: Int) -> PlanCoverage? {
        let layout = MatmulLayout(p)
        let (m, n, k) = (p.m, p.n, p.k)
        let gemm: (transA: Bool, transB: Bool, m: Int, n: Int, k: Int)
        let count: Int, work: Int
        switch direction {
        case .fwd:
            (count, work) = (layout.batchCount, m * n * k)
            gemm = (p.transposeA, p.transposeB, m, n, k)
        case .bwdData, .bwdWeights:
            let ofA = direction == .bwdData
            count = ofA ? layout.aCount : layout.bCount
            work = m * n * k * max(1, layout.batchCount / max(1, count))
            let (rows, columns, inner) = ofA ? (m, k, n) : (k, n, m)
            let transposed = ofA ? p.transposeA : p.transposeB
            // `matmulGradient`: X·Y with X = dY (or op(A)ᵀ), Y = op(B)ᵀ (or dY), swapped
            // and read the other way when the operand is stored transposed.
            let (xT, yT) = ofA ? (false, !p.transposeB) : (!p.transposeA, false)
            let (lT, rT) = transposed ? (!yT, !xT) : (xT, yT)
            gemm = (lT, rT, transposed ? columns : rows, transposed ? rows : columns, inner)
        default: return nil
        }
        let t = resolveThreads(threads)
        let parallel = count > 1 && t > 1 && (work < 1 << 21 || count >= 4 * t)
        var (path, b) = sgemmCoverage(
            transA: gemm.transA, transB: gemm.transB, m: gemm.m, n: gemm.n, k: gemm.k, threads: parallel ? 1 : t)
        if count == 0 { path = .empty }
        if parallel { b.insert(.threadSplit) }
        return PlanCoverage(kernel: "gemm", path: path.rawValue, boundaries: path == .empty ? [] : b)
    }

    /// `linearForward` (`x·Wᵀ`), `linearBackwardData` (`dy·W`), `linearBackwardWeights`
    /// (`dyᵀ·x`) and the bias gradient's column sums.
    static func linearCoverage(_ p: LinearProblem, _ direction: Direction, threads: Int) -> PlanCoverage? {
        let rows = p.rows, input = p.inFeatures, output = p.outFeatures
        let gemm: (Bool, Bool, Int, Int, Int)
        switch direction {
        case .fwd: gemm = (false, true, rows, output, input)
        case .bwdData: gemm = (false, false, rows, input, output)
        case .bwdWeights: gemm = (true, false, output, input, rows)
        case .bwdBias:
            // `linearBackwardBias`: one thread below 2¹⁶ elements, else chunks of 256 outputs.
            let split = rows * output >= 1 << 16 && resolveThreads(threads) > 1 && output > 256
            return PlanCoverage(kernel: "linear_bias", path: "columnSums", boundaries: split ? [.threadSplit] : [])
        default: return nil
        }
        let (path, b) = sgemmCoverage(transA: gemm.0, transB: gemm.1, m: gemm.2, n: gemm.3, k: gemm.4, threads: threads)
        return PlanCoverage(kernel: "gemm", path: path.rawValue, boundaries: b)
    }
}
