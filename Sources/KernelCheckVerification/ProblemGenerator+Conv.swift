import KernelCheckCore
import KernelCheckProblems

/// Random convolutions and transposed convolutions.
///
/// The geometry (rank, kernel, stride, dilation, padding, spatial sizes) is drawn first, per
/// spatial dimension (or once and repeated, half the time: square problems); then batch,
/// groups and channels are drawn under the MAC and element budget the geometry leaves.
extension ProblemGenerator {
    enum PaddingStyle: CaseIterable {
        case valid, same, sameLower, symmetric, asymmetric
    }

    /// One spatial dimension's geometry.
    struct SpatialDim {
        var input = 0, kernel = 1, stride = 1, dilation = 1, padBegin = 0, padEnd = 0, outputPadding = 0
        var extent: Int { dilation * (kernel - 1) + 1 }
    }

    static func paddingStyle(rng: inout SeededRNG) -> PaddingStyle {
        rng.weighted([(.valid, 2), (.same, 2), (.sameLower, 1), (.symmetric, 2), (.asymmetric, 2)])
    }

    static func kernelSize(rng: inout SeededRNG, size: GeneratorSize) -> Int {
        rng.weighted([(1, 3), (2, 2), (3, 4), (4, 1), (5, 2)] + (size == .medium ? [(7, 1)] : []))
    }

    /// Strides up to 4: with kernels of 1 or 2 (a quarter of the draws), stride > kernel is common.
    static func strideSize(rng: inout SeededRNG) -> Int { rng.weighted([(1, 6), (2, 3), (3, 2), (4, 1)]) }

    static func dilationSize(rng: inout SeededRNG) -> Int { rng.weighted([(1, 7), (2, 2), (3, 1)]) }

    /// Explicit padding (or crop) for a dilated kernel extent `e`: none, ⌊e/2⌋ (keeps the
    /// size for odd kernels), e − 1 (a "full" convolution), e (a border of outputs that see
    /// only padding), or anything in between.
    static func padAmount(extent e: Int, rng: inout SeededRNG) -> Int {
        let anything = rng.nextInt(in: 0...e)
        return rng.weighted([(0, 2), (e / 2, 2), (e - 1, 1), (e, 1), (anything, 2)])
    }

    static func padding(_ style: PaddingStyle, _ dims: [SpatialDim]) -> Padding {
        switch style {
        case .valid: return .valid
        case .same: return .same
        case .sameLower: return .sameLower
        case .symmetric, .asymmetric: return .explicit(begin: dims.map(\.padBegin), end: dims.map(\.padEnd))
        }
    }

    static func randomConv(rng: inout SeededRNG, size: GeneratorSize) -> ConvProblem? {
        let drawn = randomDims(rng: &rng, size: size) { dim, style, rank, rng in
            let spatialCap = size.spatialCap(rank: rank)
            switch style {
            case .symmetric: dim.padBegin = padAmount(extent: dim.extent, rng: &rng); dim.padEnd = dim.padBegin
            case .asymmetric:
                dim.padBegin = padAmount(extent: dim.extent, rng: &rng);
                dim.padEnd = padAmount(extent: dim.extent, rng: &rng)
            default: break
            }
            // The dilated kernel must fit the padded input; `same` needs at least one pixel.
            let minimum: Int
            switch style {
            case .valid: minimum = dim.extent
            case .same, .sameLower: minimum = 1
            case .symmetric, .asymmetric: minimum = max(0, dim.extent - dim.padBegin - dim.padEnd)
            }
            guard minimum <= spatialCap else { return false }
            dim.input = Self.size(in: minimum...spatialCap, edges: size.tileEdgeSizes, rng: &rng)
            return true
        }
        guard let (style, dims) = drawn else { return nil }
        let probe = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: dims.map(\.input), kernel: dims.map(\.kernel),
            stride: dims.map(\.stride), dilation: dims.map(\.dilation), padding: padding(style, dims), hasBias: false)
        return withChannelsAndBias(probe, size: size, rng: &rng)
    }

    static func randomConvTranspose(rng: inout SeededRNG, size: GeneratorSize) -> ConvTransposeProblem? {
        let drawn = randomDims(rng: &rng, size: size) { dim, style, rank, rng in
            // The output is about `in·s`: keep inputs at half the convolution's sizes.
            let spatialCap = max(2, size.spatialCap(rank: rank) / 2)
            let outputPaddingLimit = max(dim.stride, dim.dilation) - 1
            if outputPaddingLimit > 0 && rng.chance(0.35) {
                dim.outputPadding = rng.nextInt(in: 1...outputPaddingLimit)
            }
            // `same` crops d·(k−1) + 1 + op − s, which must not be negative.
            if (style == .same || style == .sameLower) && dim.extent + dim.outputPadding < dim.stride {
                dim.stride = rng.nextInt(in: 1...(dim.extent + dim.outputPadding))
                if dim.outputPadding >= max(dim.stride, dim.dilation) { dim.outputPadding = 0 }
            }
            dim.input = Self.size(in: 1...spatialCap, edges: size.tileEdgeSizes, rng: &rng)
            if style == .symmetric || style == .asymmetric {
                dim.padBegin = padAmount(extent: dim.extent, rng: &rng)
                dim.padEnd = style == .symmetric ? dim.padBegin : padAmount(extent: dim.extent, rng: &rng)
                // The crop must leave at least one output element.
                let full = (dim.input - 1) * dim.stride + dim.extent + dim.outputPadding
                if dim.padBegin + dim.padEnd >= full {
                    dim.padBegin = min(dim.padBegin, full - 1)
                    dim.padEnd = min(dim.padEnd, full - 1 - dim.padBegin)
                }
            }
            return true
        }
        guard let (style, dims) = drawn else { return nil }
        let probe = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: dims.map(\.input),
            kernel: dims.map(\.kernel), stride: dims.map(\.stride), dilation: dims.map(\.dilation),
            padding: padding(style, dims), outputPadding: dims.map(\.outputPadding), hasBias: false)
        return withChannelsAndBias(probe, size: size, rng: &rng)
    }

    /// The geometry both convolutions start from: spatial rank, padding style and one
    /// dimension per rank, each with its kernel, stride and dilation drawn and then finished by
    /// `finish` (padding, sizes; false when nothing fits), or the first repeated in every
    /// dimension half the time (square problems). Nil when `finish` gives up.
    static func randomDims(
        rng: inout SeededRNG, size: GeneratorSize,
        finish: (inout SpatialDim, PaddingStyle, _ rank: Int, inout SeededRNG) -> Bool
    ) -> (style: PaddingStyle, dims: [SpatialDim])? {
        let rank = rng.weighted([(1, 3), (2, 4), (3, 2)])
        let style = paddingStyle(rng: &rng)
        let square = rng.chance(0.5)
        var dims: [SpatialDim] = []
        for i in 0..<rank {
            if square && i > 0 { dims.append(dims[0]); continue }
            var dim = SpatialDim(
                kernel: kernelSize(rng: &rng, size: size), stride: strideSize(rng: &rng),
                dilation: dilationSize(rng: &rng))
            guard finish(&dim, style, rank, &rng) else { return nil }
            dims.append(dim)
        }
        return (style, dims)
    }

    /// `probe` (one image, one input and one output channel, no bias) with batch, groups and
    /// channels drawn by `drawChannels` under the budget its geometry leaves, then a bias half
    /// the time. The probe's MACs are those of one (image, input channel, output channel).
    static func withChannelsAndBias<P: DrawnConvolution>(_ probe: P, size: GeneratorSize, rng: inout SeededRNG) -> P? {
        let outSpatial = probe.outputSize.reduce(1, *), inSpatial = probe.inputSize.reduce(1, *)
        let taps = probe.kernel.reduce(1, *)
        guard
            let c = drawChannels(
                macsPerUnit: Int(probe.macs), xPerChannel: inSpatial, yPerChannel: outSpatial,
                taps: taps, size: size, rng: &rng)
        else { return nil }
        var p = probe
        p.batch = c.batch; p.groups = c.groups; p.inChannels = c.inChannels; p.outChannels = c.outChannels
        p.hasBias = rng.chance(0.5)
        return p
    }

    /// Batch, groups and channels under the size budget. With `g` groups of `ci` input and
    /// `co` output channels each, a (transposed) convolution costs
    /// `n·g·ci·co·macsPerUnit` MACs and holds `n·g·ci·xPerChannel` input,
    /// `n·g·co·yPerChannel` output and `g·ci·co·taps` weight elements.
    ///
    /// Styles: plain (g = 1, channels from the tile-edge sizes, drawn in random order so
    /// either side can be large), grouped (g ∈ {2, 3, 4} (+8 medium), a few channels per
    /// group) and depthwise (ci = 1, channel multiplier co ∈ {1, 2, 3}, g drawn like a
    /// channel count). Zero channels appear with probability ≈ 3 % per side.
    static func drawChannels(
        macsPerUnit: Int, xPerChannel: Int, yPerChannel: Int, taps: Int, size: GeneratorSize,
        rng: inout SeededRNG
    ) -> (batch: Int, groups: Int, inChannels: Int, outChannels: Int)? {
        let n = batchSize(rng: &rng)
        let maxMACs = size.maxMACs, maxElements = Double(size.maxTensorElements)
        func ciCap(g: Int, co: Int) -> Int {
            min(cap(maxMACs, n, g, co, macsPerUnit), cap(maxElements, n, g, xPerChannel), cap(maxElements, g, co, taps))
        }
        func coCap(g: Int, ci: Int) -> Int {
            min(cap(maxMACs, n, g, ci, macsPerUnit), cap(maxElements, n, g, yPerChannel), cap(maxElements, g, ci, taps))
        }
        let g: Int, ci: Int, co: Int
        let style = rng.weighted([("plain", 5), ("grouped", 2), ("depthwise", 2)])
        switch style {
        case "plain", "grouped":
            let grouped = style == "grouped" && ciCap(g: 1, co: 1) >= 2
            g = grouped ? rng.pick(size == .small ? [2, 3, 4] : [2, 3, 4, 8]) : 1
            let edges = grouped ? [1, 2, 3, 4, 8] : size.tileEdgeSizes
            let zeroChance = grouped ? 0.02 : 0.03
            if rng.chance(0.5) {
                let ciLimit = ciCap(g: g, co: 1)
                guard ciLimit >= 1 else { return nil }
                let a = Self.size(in: 1...ciLimit, edges: edges, zeroChance: zeroChance, rng: &rng)
                let coLimit = coCap(g: g, ci: a)
                guard coLimit >= 1 else { return nil }
                (ci, co) = (a, Self.size(in: 1...coLimit, edges: edges, zeroChance: zeroChance, rng: &rng))
            } else {
                let coLimit = coCap(g: g, ci: 1)
                guard coLimit >= 1 else { return nil }
                let b = Self.size(in: 1...coLimit, edges: edges, zeroChance: zeroChance, rng: &rng)
                let ciLimit = ciCap(g: g, co: b)
                guard ciLimit >= 1 else { return nil }
                (ci, co) = (Self.size(in: 1...ciLimit, edges: edges, zeroChance: zeroChance, rng: &rng), b)
            }
        default:
            ci = 1
            co = rng.weighted([(1, 3), (2, 2), (3, 1)])
            let gLimit = min(
                cap(maxMACs, n, co, macsPerUnit), cap(maxElements, n, xPerChannel),
                cap(maxElements, n, co, yPerChannel), cap(maxElements, co, taps))
            guard gLimit >= 1 else { return nil }
            g = Self.size(in: 1...gLimit, edges: size.tileEdgeSizes, rng: &rng)
        }
        return (n, g, g * ci, g * co)
    }
}

/// A convolution whose batch, groups, channels and bias the generator fills in after drawing
/// its geometry.
protocol DrawnConvolution: ConvolutionGeometry {
    var batch: Int { get set }
    var groups: Int { get set }
    var inChannels: Int { get set }
    var outChannels: Int { get set }
    var hasBias: Bool { get set }
}

extension ConvProblem: DrawnConvolution {}
extension ConvTransposeProblem: DrawnConvolution {}
