import KernelCheckProblems

/// The code that computes one direction of a tiled convolution. Every problem and direction
/// takes exactly one path, chosen from the shape and the tuning alone (never the thread
/// count) by `ConvPlan`; `kernelcheck problem '<problem>'` prints it, and benchmark and
/// nightly records carry it, so a number or a failure names the code it belongs to.
///
/// A transposed convolution runs on the adjoint convolution (`TiledConv(adjointOf:)`): its
/// forward takes a backward-data path, its backward-data a forward path.
public enum ConvPath: String, Sendable, CaseIterable, Codable {
    /// Nothing to multiply (an empty output, or no products reach it): a bias or zero fill.
    case empty
    /// Few output channels: the products go through a buffer of `Co·∏k` rows over the input
    /// positions (`TiledConv+Dual.swift`).
    case dual
    /// Implicit GEMM: 12 × 32 register tiles reading a zero-padded copy of the image through
    /// a table of tap offsets (`TiledConv+Direct.swift`).
    case direct
    /// The direct forward for at most 4 output channels: tiles of 2–4 channels × a run of
    /// consecutive pixel vectors (`TiledConv+DirectWideKernels.swift`).
    case directWide
    /// Width stride 1 or 2, 2 to 7 taps a row, ≥ 32 output channels, 16-lane vectors: 8 pixels ×
    /// 32 channels per register tile, read from the unpadded input, the padding's products
    /// left out (`TiledConv+ChannelLanes.swift`); backward-data of stride 1 runs it on the adjoint.
    case channelLanes
    /// 1×1, stride 1, unpadded: the image is its own column matrix, one SGEMM per image.
    case pointwise
    /// im2col written straight into SGEMM's packed B panels (`TiledConv+Packed.swift`).
    case packedIm2col
    /// Backward-data split into output phases, each a direct forward (`TiledConv+Phases.swift`).
    case directPhases
    /// Backward-data with `Wᵀ` packed once and each slab's products scattered by col2im
    /// (`TiledConv+Packed.swift`).
    case packedCol2im
    /// Backward-data through plain SGEMM slabs and col2im (`TiledConv+Im2Col.swift`).
    case im2colCol2im
    /// Backward-weights in 16-lane accumulators, 4 channels × 6 taps per tile, over bands of
    /// whole output rows (`TiledConv+DirectWeights.swift`).
    case directWeights
    /// The same kernel on the direct forward's virtual grid (flattened rows, or rows that are
    /// not whole vectors), junk lanes zeroed (`TiledConv+DirectWeights.swift`).
    case virtualGridWeights
    /// Backward-weights for wide layers: 12 × 32 tiles on dY and colᵀ packed straight from the
    /// padded image (`TiledConv+PanelWeights.swift`).
    case panelWeights
    /// Backward-weights as 12 taps × 32 output channels tiles: the taps broadcast from the
    /// padded input, dY packed as 32-channel pixel rows (`TiledConv+LaneWeights.swift`).
    case laneWeights
    /// Backward-weights through plain SGEMM on col slabs (`TiledConv+Im2Col.swift`).
    case im2colWeights
    /// The bias gradient: per-channel sums in a fixed order (`ChannelSums.swift`).
    case channelSums
}

/// Why a path does not apply to a shape (the reason a plan records for the path it chose
/// instead).
struct PathUnavailable: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// One direction of a `TiledConv`: the path, the reason it was chosen, and the geometry that
/// path runs on. Built once per call; the entry points `switch` on `path`.
struct ConvPlan {
    var path: ConvPath
    var reason: String
    var direct: TiledConv.DirectPlan? = nil
    var adjoint: TiledConv.DirectAdjoint? = nil
}

extension TiledConv {
    static let pointwiseReason = "1×1, stride 1, unpadded: the image is its own column matrix"

    static func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded())) %" }

    /// Why the dual lowering was chosen: its buffer against col's.
    private var dualReason: String {
        "dual buffer Co·∏k·∏in = \(dualRows * inSpatial) floats ≤ 1/\(tuning.dualAdvantage) of col's "
            + "Ci·∏k·∏out = \(columnRows * outSpatial)"
    }

    /// Why the channel-lane forward was chosen.
    var channelLanesReason: String {
        "\(outChannels) output channels in lanes of 32, rows of \(kernel[2]) taps: only real products"
    }

    /// The path of `forward` (a convolution's forward, a transposed convolution's backward-data).
    var forwardPlan: ConvPlan {
        if batch == 0 || groups * outChannels == 0 || outSpatial == 0 {
            return ConvPlan(path: .empty, reason: "no outputs")
        }
        if columnRows == 0 { return ConvPlan(path: .empty, reason: "K = 0: the output is the bias or zero") }
        if usesDual { return ConvPlan(path: .dual, reason: dualReason) }
        switch directAttempt {
        case .success(let plan):
            if plan.channelLanes {
                return ConvPlan(path: .channelLanes, reason: channelLanesReason, direct: plan)
            }
            let lanes =
                "\(Self.percent(plan.efficiency)) useful lanes on a \(plan.flattened ? "flattened" : "row") grid"
            if plan.wideRows > 0 {
                return ConvPlan(
                    path: .directWide,
                    reason:
                        "\(outChannels) output channels ≤ 4: \(plan.wideRows) × \(plan.wideVectors) vector tiles, \(lanes)",
                    direct: plan)
            }
            return ConvPlan(path: .direct, reason: "\(outChannels) output channels per group, \(lanes)", direct: plan)
        case .failure(let why):
            if isPointwise { return ConvPlan(path: .pointwise, reason: Self.pointwiseReason) }
            return ConvPlan(path: .packedIm2col, reason: "not direct: \(why.reason)")
        }
    }

    /// The path of `backwardData` (a convolution's backward-data, a transposed convolution's
    /// forward).
    var backwardDataPlan: ConvPlan {
        if batch * groups * inChannels * inSpatial == 0 { return ConvPlan(path: .empty, reason: "no inputs") }
        if outChannels == 0 || outSpatial == 0 { return ConvPlan(path: .empty, reason: "no products: dX = 0") }
        if usesDual { return ConvPlan(path: .dual, reason: dualReason) }
        switch adjointAttempt {
        case .success(let adjoint):
            let taps = adjoint.phases.map { "\($0.heightTaps.count)×\($0.widthTaps.count)" }
            // `adjointAttempt` gives the lanes to every phase or to none.
            if adjoint.phases[0].plan.channelLanes {
                let lanes = adjoint.phases[0].lowering.channelLanesReason
                return ConvPlan(
                    path: .channelLanes,
                    reason: adjoint.phases.count == 1
                        ? "stride 1: the adjoint's forward, \(lanes)"
                        : "\(adjoint.phases.count) output phases of \(taps.joined(separator: ", ")) taps, each a channel-lane forward: \(lanes)",
                    adjoint: adjoint)
            }
            return ConvPlan(
                path: .directPhases,
                reason: adjoint.phases.count == 1
                    ? "stride 1: one direct forward of the adjoint, \(taps[0]) taps"
                    : "\(adjoint.phases.count) output phases of \(taps.joined(separator: ", ")) taps, each a direct forward",
                adjoint: adjoint)
        case .failure(let why):
            if isPointwise { return ConvPlan(path: .pointwise, reason: Self.pointwiseReason) }
            if outChannels <= GEMMBlocking.kc {
                return ConvPlan(
                    path: .packedCol2im,
                    reason: "not direct: \(why.reason); Co = \(outChannels) fits one K block (≤ \(GEMMBlocking.kc))")
            }
            return ConvPlan(
                path: .im2colCol2im,
                reason: "not direct: \(why.reason); Co = \(outChannels) exceeds one K block (\(GEMMBlocking.kc))")
        }
    }

    /// The path of `backwardWeights`.
    var backwardWeightsPlan: ConvPlan {
        if groups * outChannels * columnRows == 0 { return ConvPlan(path: .empty, reason: "no weights") }
        if batch == 0 || outSpatial == 0 || inSpatial == 0 {
            return ConvPlan(path: .empty, reason: "no products: dW = 0")
        }
        if usesDual { return ConvPlan(path: .dual, reason: dualReason) }
        let plan: DirectPlan
        switch directAttempt {
        case .success(let p): plan = p
        case .failure(let why):
            if isPointwise { return ConvPlan(path: .pointwise, reason: Self.pointwiseReason) }
            return ConvPlan(path: .im2colWeights, reason: "not direct: \(why.reason)")
        }
        let accumulators = directWeightsAccumulators
        if accumulators <= tuning.directAccumulatorBudget {
            let fits = "\(accumulators) floats of lane accumulators fit the budget of \(tuning.directAccumulatorBudget)"
            if laneWeightsUnavailable == nil {
                return ConvPlan(
                    path: .laneWeights,
                    reason:
                        "\(fits); \(outChannels) output channels in lanes of 32 × \(columnRows) taps in tiles of 12",
                    direct: plan)
            }
            if !plan.flattened, plan.virtualWidth == outSize[2] {
                return ConvPlan(path: .directWeights, reason: "\(fits); output rows are whole vectors", direct: plan)
            }
            return ConvPlan(
                path: .virtualGridWeights,
                reason:
                    "\(fits); output rows are not whole vectors (\(plan.flattened ? "flattened grid" : "row grid"))",
                direct: plan)
        }
        let tooMany = "\(accumulators) floats of lane accumulators exceed \(tuning.directAccumulatorBudget)"
        if usesPanelWeights(plan) {
            return ConvPlan(
                path: .panelWeights,
                reason: "\(tooMany); Co = \(outChannels) and K = \(columnRows) ≥ \(tuning.panelWeightsMinimum)",
                direct: plan)
        }
        return ConvPlan(
            path: .im2colWeights,
            reason: "\(tooMany), and the panel path needs Co and K ≥ \(tuning.panelWeightsMinimum)"
                + (tuning.panelWeights ? "" : " (off in the tuning)"))
    }

    // MARK: - The three entry points

    /// `output[n, g·Co + co, p] = (bias[g·Co + co] or 0) + Σ_K W[g][co, K] · col(input[n, g])[K, p]`.
    func forward(
        input x: UnsafePointer<Float>, weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let plan = forwardPlan
        switch plan.path {
        case .dual: forwardDual(input: Tiled.Input(x), weights: w, bias: bias, output: y, threads: threads)
        case .direct, .directWide, .channelLanes:
            forwardDirect(
                plan.direct!, input: Tiled.Input(x), weights: Tiled.Input(w), bias: bias, output: y, threads: threads)
        case .empty, .pointwise, .packedIm2col:
            guard prefillOutput(plan.path, bias: bias, output: y, threads: threads) else { return }
            if plan.path == .pointwise {
                forwardPointwise(
                    input: Tiled.Input(x), weights: Tiled.Input(w), hasBias: bias != nil, output: y,
                    threads: threads)
            } else if plan.path == .packedIm2col {
                forwardPacked(input: x, weights: Tiled.Input(w), hasBias: bias != nil, output: y, threads: threads)
            }
        default: preconditionFailure("\(plan.path) is not a forward path")
        }
    }

    /// Before the GEMM forward paths add their products: `output` = the bias per channel, or
    /// zeros for `empty` (nothing to do otherwise). False when there is no output at all.
    func prefillOutput(
        _ path: ConvPath, bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, threads: Int
    ) -> Bool {
        let rows = batch * groups * outChannels, p = outSpatial
        guard rows > 0, p > 0 else { return false }
        if let bias {
            let channels = groups * outChannels
            Tiled.forEachItem(rows, threads: threads) { row, _ in
                (y + row * p).update(repeating: bias[row % channels], count: p)
            }
        } else if path == .empty {
            y.update(repeating: 0, count: rows * p)
        }
        return true
    }

    /// `input = col2im(W[g]ᵀ · output[n, g])`: the gradient of `forward` w.r.t. its input.
    func backwardData(
        output dy: UnsafePointer<Float>, weights w: UnsafePointer<Float>, input dx: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        let plan = backwardDataPlan
        switch plan.path {
        case .empty: dx.update(repeating: 0, count: batch * groups * inChannels * inSpatial)
        case .dual: backwardDataDual(output: dy, weights: w, input: dx, threads: threads)
        case .directPhases, .channelLanes:
            backwardDataDirect(
                plan.adjoint!, output: Tiled.Input(dy), weights: Tiled.Input(w), input: dx, threads: threads)
        case .packedCol2im:
            backwardDataPacked(output: Tiled.Input(dy), weights: Tiled.Input(w), input: dx, threads: threads)
        case .pointwise, .im2colCol2im:
            backwardDataCol2im(output: Tiled.Input(dy), weights: Tiled.Input(w), input: dx, threads: threads)
        default: preconditionFailure("\(plan.path) is not a backward-data path")
        }
    }

    /// `dW[g] = Σ_n output[n, g] · col(input[n, g])ᵀ`: the gradient of `forward` w.r.t. W.
    func backwardWeights(
        input x: UnsafePointer<Float>, output dy: UnsafePointer<Float>, weights dw: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        let plan = backwardWeightsPlan
        switch plan.path {
        case .empty: dw.update(repeating: 0, count: groups * outChannels * columnRows)
        case .dual: backwardWeightsDual(input: Tiled.Input(x), output: dy, weights: dw, threads: threads)
        case .directWeights:
            backwardWeightsDirect(
                plan.direct!, input: Tiled.Input(x), output: Tiled.Input(dy), weights: dw, threads: threads)
        case .virtualGridWeights:
            backwardWeightsVirtual(
                plan.direct!, input: Tiled.Input(x), output: Tiled.Input(dy), weights: dw, threads: threads)
        case .laneWeights:
            backwardWeightsLanes(
                plan.direct!, input: Tiled.Input(x), output: Tiled.Input(dy), weights: dw, threads: threads)
        case .panelWeights:
            backwardWeightsPanels(
                plan.direct!, input: Tiled.Input(x), output: Tiled.Input(dy), weights: dw, threads: threads)
        case .pointwise, .im2colWeights:
            backwardWeightsIm2col(input: Tiled.Input(x), output: Tiled.Input(dy), weights: dw, threads: threads)
        default: preconditionFailure("\(plan.path) is not a backward-weights path")
        }
    }
}

extension Tiled {
    /// The path and the reason for it that the tiled convolution takes for one direction of
    /// `p` (`bwd_bias` sums channels). Depends only on the problem, never on the thread count.
    public static func convPath(_ p: ConvProblem, _ direction: Direction) -> (path: ConvPath, reason: String) {
        TiledConv(p, tuning: .standard).path(direction, adjoint: false)
    }

    /// `convPath` for a transposed convolution, which runs on its adjoint convolution.
    public static func convTransposePath(
        _ p: ConvTransposeProblem, _ direction: Direction
    )
        -> (path: ConvPath, reason: String)
    {
        TiledConv(adjointOf: p, tuning: .standard).path(direction, adjoint: true)
    }
}

extension TiledConv {
    /// The plan of `direction` of this convolution, or of the transposed convolution whose
    /// adjoint it is (forward and backward-data exchange their products).
    func path(_ direction: Direction, adjoint: Bool) -> (path: ConvPath, reason: String) {
        let plan: ConvPlan
        switch direction {
        case .fwd: plan = adjoint ? backwardDataPlan : forwardPlan
        case .bwdData: plan = adjoint ? forwardPlan : backwardDataPlan
        case .bwdWeights: plan = backwardWeightsPlan
        default: return (.channelSums, "per-channel sums of dy")
        }
        return (plan.path, plan.reason)
    }
}
