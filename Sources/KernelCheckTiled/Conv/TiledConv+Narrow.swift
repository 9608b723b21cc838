// The three directions on inputs that may be stored in a narrow type (`Tiled.Input`: bf16,
// f16, fp8 bit patterns). Where the path `ConvPlan` picks copies or packs an operand anyway,
// the operand goes in narrow and is widened inside that copy (exact, so the copy holds the
// same floats as for a widened tensor and the sums are the float32 path's own):
//
// - `direct`, `directWide`: x into the zero-padded band buffer; W into the 12 × 32 weight
//   panels (the wide kernels read W in place: widened up front);
// - `channelLanes`: W into its 32-channel panels (x, read in place, widened up front;
//   backward-data: dY widened up front, W into the panels);
// - `directPhases`: dY into each phase's padded buffer; W into the phases' panels (widened
//   up front when a phase runs the wide kernels, which gather single taps);
// - `panelWeights`: x into the padded buffer, dY into the A panels;
// - `virtualGridWeights`: x into the padded buffer, dY onto the virtual grid;
// - `laneWeights`: x into the padded buffer, dY into the 32-channel pixel rows;
// - `dual` forward and backward-weights: x into the SGEMM's panels (W and dY up front: the
//   permutation into Wd and the scatter of dY read them in place);
// - `pointwise`: x, W and dY into the SGEMM's panels (the GEMM's narrow packing);
// - `im2colCol2im`: W and dY into the SGEMM's panels;
// - `im2colWeights`: dY into the SGEMM's panels (x widened up front: im2col reads it);
// - `packedIm2col`: W into its A panels (x widened up front: im2col reads it in place);
// - `packedCol2im`: W into its A panels, dY into its B panels (the GEMM's narrow packing);
// - `directWeights`: x into the padded band; dY, which the float32 kernel reads in place,
//   into per-worker staging rows (a block's 4 channels of a band), read once per tap tile.
//
// Every other path (and the bias) widens each narrow operand once up front into a float32
// workspace (`Tiled.withFloats`) and runs the float32 path. A float32 `Input` is never copied.

extension TiledConv {
    /// Elements of x, W and dY of this convolution (all images and groups).
    var inputElements: Int { batch * groups * inChannels * inSpatial }
    var weightElements: Int { groups * outChannels * columnRows }
    var outputElements: Int { batch * groups * outChannels * outSpatial }

    /// `forward` on inputs that may be narrow (see the top of this file).
    func forward(
        input x: Tiled.Input, weights w: Tiled.Input, bias: Tiled.Input?, output y: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        Tiled.withFloats(bias, count: groups * outChannels, threads: threads) { bias in
            let plan = forwardPlan
            switch plan.path {
            case .direct, .directWide, .channelLanes:
                forwardDirect(plan.direct!, input: x, weights: w, bias: bias, output: y, threads: threads)
            case .dual:
                // W is permuted into Wd (a copy, small for the few output channels of this path).
                Tiled.withFloats(w, count: weightElements, threads: threads) { w in
                    forwardDual(input: x, weights: w!, bias: bias, output: y, threads: threads)
                }
            case .pointwise:
                guard prefillOutput(plan.path, bias: bias, output: y, threads: threads) else { return }
                forwardPointwise(input: x, weights: w, hasBias: bias != nil, output: y, threads: threads)
            case .packedIm2col:
                // im2col builds its B panels from float32 x: x widened up front, W while packing.
                Tiled.withFloats(x, count: inputElements, threads: threads) { x in
                    guard prefillOutput(plan.path, bias: bias, output: y, threads: threads) else { return }
                    forwardPacked(input: x!, weights: w, hasBias: bias != nil, output: y, threads: threads)
                }
            default:
                Tiled.withFloats(x, count: inputElements, threads: threads) { x in
                    Tiled.withFloats(w, count: weightElements, threads: threads) { w in
                        forward(input: x!, weights: w!, bias: bias, output: y, threads: threads)
                    }
                }
            }
        }
    }

    /// `backwardData` on inputs that may be narrow.
    func backwardData(
        output dy: Tiled.Input, weights w: Tiled.Input, input dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let plan = backwardDataPlan
        switch plan.path {
        case .directPhases, .channelLanes:
            backwardDataDirect(plan.adjoint!, output: dy, weights: w, input: dx, threads: threads)
            return
        case .packedCol2im:
            backwardDataPacked(output: dy, weights: w, input: dx, threads: threads)
            return
        case .pointwise, .im2colCol2im:
            backwardDataCol2im(output: dy, weights: w, input: dx, threads: threads)
            return
        default: break
        }
        Tiled.withFloats(dy, count: outputElements, threads: threads) { dy in
            Tiled.withFloats(w, count: weightElements, threads: threads) { w in
                backwardData(output: dy!, weights: w!, input: dx, threads: threads)
            }
        }
    }

    /// `backwardWeights` on inputs that may be narrow.
    func backwardWeights(
        input x: Tiled.Input, output dy: Tiled.Input, weights dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let plan = backwardWeightsPlan
        switch plan.path {
        case .laneWeights:
            backwardWeightsLanes(plan.direct!, input: x, output: dy, weights: dw, threads: threads)
        case .directWeights:
            backwardWeightsDirect(plan.direct!, input: x, output: dy, weights: dw, threads: threads)
        case .virtualGridWeights:
            backwardWeightsVirtual(plan.direct!, input: x, output: dy, weights: dw, threads: threads)
        case .panelWeights:
            backwardWeightsPanels(plan.direct!, input: x, output: dy, weights: dw, threads: threads)
        case .dual:
            Tiled.withFloats(dy, count: outputElements, threads: threads) { dy in
                backwardWeightsDual(input: x, output: dy!, weights: dw, threads: threads)
            }
        case .pointwise:
            backwardWeightsIm2col(input: x, output: dy, weights: dw, threads: threads)
        case .im2colWeights:
            Tiled.withFloats(x, count: inputElements, threads: threads) { x in
                backwardWeightsIm2col(input: Tiled.Input(x!), output: dy, weights: dw, threads: threads)
            }
        default:
            Tiled.withFloats(x, count: inputElements, threads: threads) { x in
                Tiled.withFloats(dy, count: outputElements, threads: threads) { dy in
                    backwardWeights(input: x!, output: dy!, weights: dw, threads: threads)
                }
            }
        }
    }
}
