import CKernelSupport
import KernelCheckCore
import KernelCheckTestSupport
import Testing

@testable import KernelCheckTiled

/// The variants this CPU executes other than the default one (the rest of the suite runs
/// that one): each reruns the exact SGEMM and convolution tests below.
let otherExecutableVariants = KernelVariant.executable.filter { $0 != KernelVariant.selected }

@Suite("Kernel variants: selection, errors and blocking")
struct KernelVariantTests {
    @Test("what cpuid reports decides which variants run: AVX-512F all three, AVX2+FMA avx2 and neon, else neon")
    func executableFollowsCPU() {
        #if arch(x86_64)
            let expected: [KernelVariant] =
                switch kc_cpu_vector_bits() {
                case 512: [.avx512, .avx2, .neon]
                case 256: [.avx2, .neon]
                default: [.neon]
                }
        #else
            let expected: [KernelVariant] = [.neon]
        #endif
        #expect(KernelVariant.executable == expected)
        #expect(KernelVariant.detected == expected[0])
    }

    @Test("an unknown name is a typed error naming the variants this machine runs", arguments: ["avx3", "", "sse"])
    func unknownName(name: String) {
        #expect(throws: KernelVariantError.unknown(name: name, executable: KernelVariant.executable)) {
            try KernelVariant.named(name)
        }
        let message = KernelVariantError.unknown(name: name, executable: [.avx2, .neon]).description
        #expect(message == "unknown kernel variant '\(name)'; this machine runs: avx2, neon")
    }

    @Test("names are case-insensitive; every executable variant is found by its name")
    func knownNames() throws {
        for variant in KernelVariant.executable {
            #expect(try KernelVariant.named(variant.rawValue.uppercased()) == variant)
        }
    }

    @Test("a variant the CPU cannot execute is refused with what it needs")
    func notExecutable() {
        for variant in KernelVariant.allCases where !KernelVariant.executable.contains(variant) {
            #expect(throws: KernelVariantError.notExecutable(variant, executable: KernelVariant.executable)) {
                try KernelVariant.named(variant.rawValue)
            }
        }
        let message = KernelVariantError.notExecutable(.avx512, executable: [.avx2, .neon]).description
        #expect(
            message == "kernel variant 'avx512' needs AVX-512F, which this CPU lacks; this machine runs: avx2, neon")
        #expect(
            KernelVariantError.environment(.unknown(name: "x", executable: [.neon])).description
                == "KERNELCHECK_KERNEL_VARIANT: unknown kernel variant 'x'; this machine runs: neon")
    }

    @Test("register tiles: 12×32 of SIMD16, 6×16 of SIMD8, 12×8 of SIMD4 (each tiles the 12×32 panel pair)")
    func tiles() {
        #expect(KernelVariant.allCases.map(\.registerTileName) == ["12x32", "6x16", "12x8"])
        #expect(KernelVariant.allCases.map(\.lanes) == [16, 8, 4])
        for variant in KernelVariant.allCases {
            #expect(GEMMBlocking.mr % variant.registerTile.rows == 0)
            #expect(GEMMBlocking.nr % variant.registerTile.columns == 0)
            #expect(variant.registerTile.columns == 2 * variant.lanes)
        }
    }

    /// kc: the largest power of two ≤ 512 with 2·kc·12·4 bytes ≤ 3/4 L1d, from 128 up;
    /// mc: 3/16 L2 / (4·kc), rounded down to 12, at most 96; nc: L3/8 / (4·kc), rounded down to 32, ≤ 2048.
    @Test(
        "blocking from the caches",
        arguments: [
            // Zen 4/5 (32 or 48 KiB L1d, 1 MiB L2, 32 MiB L3): the values first tuned there.
            (CacheSizes(l1d: 32 << 10, l2: 1 << 20, l3: 32 << 20), 512, 96, 2048),
            (CacheSizes(l1d: 48 << 10, l2: 1 << 20, l3: 32 << 20), 512, 96, 2048),
            // This Xeon: 2 MiB L2 → 393216 / 2048 = 192, capped at 96.
            (CacheSizes(l1d: 48 << 10, l2: 2 << 20, l3: 260 << 20), 512, 96, 2048),
            // Zen 1: 512 KiB L2 → mc = 98304 / 2048 = 48; 8 MiB L3 → nc = 1 MiB / 2048 = 512.
            (CacheSizes(l1d: 32 << 10, l2: 512 << 10, l3: 8 << 20), 512, 48, 512),
            // 16 KiB L1d: 2·256·48 = 24576 > 12288 → kc 256; 196608 / 1024 = 192 → mc 96;
            // 4 MiB / 1024 = 4096 → nc 2048. A 256 KiB L2: 49152 / 1024 = 48.
            (CacheSizes(l1d: 16 << 10, l2: 1 << 20, l3: 32 << 20), 256, 96, 2048),
            (CacheSizes(l1d: 16 << 10, l2: 256 << 10, l3: 32 << 20), 256, 48, 2048),
        ])
    func blocking(caches: CacheSizes, kc: Int, mc: Int, nc: Int) {
        let b = GEMMBlocking.blocking(for: caches)
        #expect(b.kc == kc && b.mc == mc && b.nc == nc, "\(caches) → \(b)")
    }

    /// (caches, column budget, band floats, weight budget), derived by hand from the L2 rule.
    static let budgetCases: [(CacheSizes, Int, Int, Int)] = [
        // 1 MiB L2 (Zen 4/5): 262144 floats, the values the direct kernels were tuned with.
        (CacheSizes(l1d: 32_768, l2: 1_048_576, l3: 33_554_432), 131_072, 262_144, 65_536),
        // 512 KiB L2 (Zen 1): half of each.
        (CacheSizes(l1d: 32_768, l2: 524_288, l3: 8_388_608), 65_536, 131_072, 32_768),
        // 2 MiB L2 (Xeon): counts as 1 MiB; a 128 KiB L2 counts as 256 KiB.
        (CacheSizes(l1d: 49_152, l2: 2_097_152, l3: 272_629_760), 131_072, 262_144, 65_536),
        (CacheSizes(l1d: 32_768, l2: 131_072, l3: 8_388_608), 32_768, 65_536, 16_384),
    ]

    @Test("the convolution's cache budgets from L2", arguments: budgetCases)
    func convBudgets(caches: CacheSizes, column: Int, band: Int, weights: Int) {
        let t = ConvTuning(caches: caches)
        #expect(
            t.columnBudget == column && t.directBandFloats == band && t.directWeightBudget == weights,
            "\(caches) → \(t.columnBudget), \(t.directBandFloats), \(t.directWeightBudget)")
    }

    @Test("a 512 KiB L2 cuts a padded image into bands that a 1 MiB one keeps whole, with the same sums")
    func smallL2Bands() throws {
        // Padded image: 32 channels × 66 rows × 65 columns = 137280 floats, over 131072.
        let p = conv("conv2d n=1 ic=32 oc=16 g=1 in=64x64 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=0")
        let zen1 = ConvTuning(caches: CacheSizes(l1d: 32 << 10, l2: 512 << 10, l3: 8 << 20))
        let zen4 = ConvTuning(caches: CacheSizes(l1d: 32 << 10, l2: 1 << 20, l3: 32 << 20))
        let plan = try #require(TiledConv(p, tuning: zen4).directPlan)
        #expect(TiledConv(p, tuning: zen4).directBands(plan, unit: 2).ranges.count == 1)
        #expect(TiledConv(p, tuning: zen1).directBands(plan, unit: 2).ranges.count > 1)
        let x = TestData.filled(count(p.xShape), exactFill, seed: 3, role: "x")
        let w = TestData.filled(count(p.wShape), exactFill, seed: 3, role: "w")
        let y = Naive.forward(p, x: x, w: w, b: nil)
        for tuning in [zen4, zen1] {
            expectEqual(
                LayerRun(p: p, tuning: tuning, threads: 2).forward(x: x, w: w, b: nil), y,
                "bands \(tuning.directBandFloats)")
        }
    }

    @Test(
        "sysfs cache sizes parse", arguments: [("48K", 49152), ("2048K", 2 << 20), ("260M", 260 << 20), ("512", 512)])
    func parseSize(text: String, bytes: Int) {
        #expect(CacheSizes.parseSize(text) == bytes)
    }

    @Test("malformed cache sizes are refused", arguments: ["", "K", "12X", "-"])
    func parseBadSize(text: String) {
        #expect(CacheSizes.parseSize(text) == nil)
    }

    @Test("a variant set by `with` reaches the pool workers of parallelFor and forEachItem")
    func variantReachesWorkers() {
        for variant in KernelVariant.allCases {
            let seen = KernelVariant.with(variant) {
                let slots = UnsafeMutableBufferPointer<KernelVariant?>.allocate(capacity: 8)
                defer { slots.deallocate() }
                slots.initialize(repeating: nil)
                Tiled.parallelFor(4) { i in slots[i] = KernelVariant.current }
                Tiled.forEachItem(4, threads: 2) { item, _ in slots[4 + item] = KernelVariant.current }
                return Array(slots)
            }
            #expect(seen == Array(repeating: variant, count: 8), "\(variant)")
        }
    }
}

@Suite("Kernel variants: every variant this CPU runs is exact and gives the same bits")
struct KernelVariantEquivalenceTests {
    @Test(
        "SGEMM equals a naive loop bit for bit around the tile sizes",
        arguments: otherExecutableVariants, [(false, false), (true, true)])
    func sgemmExact(variant: KernelVariant, transposes: (Bool, Bool)) {
        KernelVariant.with(variant) {
            for (index, shape) in tileShapes.enumerated() {
                let g = GEMMCase(
                    transA: transposes.0, transB: transposes.1, m: shape.m, n: shape.n, k: shape.k,
                    padA: index % 3, padB: (index + 1) % 4, padC: index % 2 == 0 ? 0 : 5, accumulate: index % 2 == 1)
                expectTiledEqualsNaive(g, seed: UInt64(300 + index), threads: 2)
            }
        }
    }

    /// Every element is one FMA chain per K block in every variant, so real fills (where any
    /// other order would show) give the same bits as the default variant on one thread.
    @Test(
        "SGEMM on real fills: the same bits as the default variant, on 1 and 3 threads",
        arguments: otherExecutableVariants)
    func sgemmSameBits(variant: KernelVariant) {
        let kc = GEMMBlocking.kc
        for (index, shape) in [(70, 150, kc + 44), (29, 40, 2 * kc + 3), (100, 3, 37)].enumerated() {
            let g = GEMMCase(transA: index == 1, transB: false, m: shape.0, n: shape.1, k: shape.2, accumulate: true)
            let (a, b, c0) = gemmInputs(g, seed: UInt64(40 + index), integer: false)
            var expected = c0
            g.tiled(a: a, b: b, c: &expected, threads: 1)
            for threads in [1, 3] {
                var actual = c0
                KernelVariant.with(variant) { g.tiled(a: a, b: b, c: &actual, threads: threads) }
                #expect(mismatch(actual, expected, bitwise: true) == nil, "\(variant) \(g) threads=\(threads)")
            }
        }
    }

    @Test(
        "convolutions: named corner problems equal the naive sums exactly (standard, direct and panel paths)",
        arguments: otherExecutableVariants, [0, 1])
    func convNamed(variant: KernelVariant, half: Int) {
        KernelVariant.with(variant) {
            for (index, (problem, seed)) in namedLayerProblems.enumerated() where index % 2 == half {
                checkExactly(problem, seed: seed, lowerings: variantLowerings)
            }
        }
    }

    @Test(
        "convolutions on real fills: the same bits as the default variant, on 1 and 3 threads",
        arguments: otherExecutableVariants)
    func convSameBits(variant: KernelVariant) {
        for (problem, seed) in ConvDeterminismTests.problems {
            Self.checkSameBits(problem, seed: seed, variant: variant)
        }
    }

    static func checkSameBits<Layer: TiledConvolution>(_ p: Layer, seed: UInt64, variant: KernelVariant) {
        let x = TestData.filled(count(p.xShape), realFill, seed: seed, role: "x")
        let w = TestData.filled(count(p.wShape), realFill, seed: seed, role: "w")
        let b = TestData.filled(p.outChannels, realFill, seed: seed, role: "b")
        let dy = TestData.filled(count(p.yShape), realFill, seed: seed, role: "dy")
        for tuning in [ConvTuning.standard, directTuning, laneTuning, panelTuning] {
            let one = LayerRun(p: p, tuning: tuning, threads: 1)
            let y = one.forward(x: x, w: w, b: b), dx = one.backwardData(dy: dy, w: w)
            let dw = one.backwardWeights(x: x, dy: dy)
            for threads in [1, 3] {
                let run = LayerRun(p: p, tuning: tuning, threads: threads)
                KernelVariant.with(variant) {
                    expectIdentical(run.forward(x: x, w: w, b: b), y, "fwd \(variant) \(run.context)")
                    expectIdentical(run.backwardData(dy: dy, w: w), dx, "bwd_data \(variant) \(run.context)")
                    expectIdentical(run.backwardWeights(x: x, dy: dy), dw, "bwd_weights \(variant) \(run.context)")
                }
            }
        }
    }
}
