import Foundation
import KernelCheckCore

/// The packed panels and cache blocking of `Tiled.sgemm` (BLIS-style loop nest).
///
/// - `mr × nr = 12 × 32`: the packed A panel holds 12 rows and the packed B panel 32 columns
///   per k step. The register tile of the `KernelVariant` covers them: the `avx512` tile is
///   the whole 12 × 32 (24 `SIMD16<Float>` accumulators), the narrower tiles (`avx2` 6 × 16,
///   `neon` 12 × 8) take 4 passes over the same panels.
/// - `kc`: K steps per packed block, the largest power of two (128…512) whose 12-row A
///   micro-panel fills at most 3/4 of L1d (512 on Zen 4/5 and on this Xeon's 48 KiB). The
///   B micro-panel streams from L2.
/// - `mc`: rows per packed A block, a multiple of `mr` whose `mc × kc` block fills at most
///   3/16 of L2 (96 on a 1 MiB Zen 4/5 L2, 48 on a 512 KiB Zen 1 L2), so it stays there while
///   B streams past; at most 96, since the thread splits (`prefersSharedB`: ≥ 4·mc rows) were
///   tuned for it and a larger block only grows the L2 footprint.
/// - `nc`: columns per packed B block, a multiple of `nr` whose `kc × nc` block fills 1/8
///   of L3, at most 2048 (4 MiB per thread).
///
/// Only `kc` affects the numbers: an element of C is summed in increasing k inside each
/// `kc` block, and the block sums are added to C in increasing block order. `mc`, `nc`, the
/// variant and the thread split change which core computes an element, never how. Two
/// machines whose L1d gives another `kc` sum long products (k > kc) in another order.
public enum GEMMBlocking {
    public static let mr = 12
    public static let nr = 32
    public static let kc = blocking(for: .current).kc
    public static let mc = blocking(for: .current).mc
    public static let nc = blocking(for: .current).nc

    /// The blocking the rules above give for `caches`.
    public static func blocking(for caches: CacheSizes) -> (kc: Int, mc: Int, nc: Int) {
        var kc = 128
        while kc < 512 && 2 * kc * mr * 4 <= caches.l1d * 3 / 4 { kc *= 2 }
        let mc = min(96, max(mr, caches.l2 * 3 / 16 / (kc * 4) / mr * mr))
        let nc = min(2048, max(4 * nr, caches.l3 / 8 / (kc * 4) / nr * nr))
        return (kc, mc, nc)
    }
}

extension Tiled {
    /// Problems below this many multiply-adds run on one thread: waking a second thread costs
    /// more than it saves (and the thread count never changes the result).
    static let sgemmParallelThreshold = 1 << 18

    /// Single-precision matrix product, row-major with leading dimensions:
    /// `C[m×n] = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n]`.
    ///
    /// `op(A) = A` (A stored `m×k`, `lda ≥ k`) or `Aᵀ` when `transA` (A stored `k×m`, `lda ≥ m`);
    /// likewise `op(B) = B` (`k×n`, `ldb ≥ n`) or `Bᵀ` when `transB` (`n×k`, `ldb ≥ k`).
    /// `C` is `m×n` with `ldc ≥ n`. When `k = 0` C becomes zero (or is left unchanged when
    /// `accumulate`); when `m` or `n` is 0 nothing is read or written.
    ///
    /// `threads`: 1 runs on the calling thread, 0 uses `defaultThreads`, otherwise at most that
    /// many threads. The result is bit-identical for every thread count and every run: threads
    /// split C into blocks of rows/columns (never K), and every element is summed in the same
    /// order (see `GEMMBlocking`). With integer inputs whose partial sums stay below 2²⁴ the
    /// result equals any other summation order exactly.
    ///
    /// Preconditions (caller bugs, like any pointer API): non-negative sizes, leading dimensions
    /// at least the stored row widths, buffers that hold the rows they address, C not
    /// overlapping A or B.
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, threads: Int
    ) {
        gemm(
            transA: transA, transB: transB, m: m, n: n, k: k, a: Input(a), lda: lda, b: Input(b), ldb: ldb,
            c: c, ldc: ldc, accumulate: accumulate, threads: threads)
    }

    /// `sgemm` on inputs that may be stored in a narrow type (bf16, f16, fp8): packing widens
    /// them to float32 (exactly), the products and sums are the float32 SGEMM's, so the result
    /// is bit-identical to `sgemm` on the widened matrices. C is float32.
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: Input, lda: Int, b: Input, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, threads: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(lda >= (transA ? m : k), "sgemm: lda=\(lda) is smaller than the row width of A")
        precondition(ldb >= (transB ? k : n), "sgemm: ldb=\(ldb) is smaller than the row width of B")
        precondition(ldc >= n, "sgemm: ldc=\(ldc) < n=\(n)")
        guard m > 0 && n > 0 else { return }
        if k == 0 {
            if !accumulate {
                for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
            }
            return
        }
        var opA = Operand(a, ld: lda, transposed: transA)
        var opB = Operand(b, ld: ldb, transposed: transB)
        var out = Output(base: c, ld: ldc, transposed: false)
        var (rows, columns) = (m, n)
        // A narrow C (n well under one register tile wide) wastes most of each 12×32 tile;
        // computing Cᵀ = op(B)ᵀ·op(A)ᵀ puts the short side on the 12-row dimension instead.
        // Every element is still the same FMA chain (products commute exactly), so the
        // choice — which depends on the shape only — changes speed, never bits.
        if prefersTransposedProblem(m: m, n: n) {
            (opA, opB) = (opB.transposedView, opA.transposedView)
            out = Output(base: c, ld: ldc, transposed: true)
            (rows, columns) = (n, m)
        }

        let requested = resolveThreads(threads)
        let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k)
        let small = !work.overflow && work.partialValue < sgemmParallelThreshold
        if !small && prefersSharedB(rows: rows, columns: columns, threads: requested) {
            sgemmSharedB(
                m: rows, n: columns, k: k, a: opA, b: opB, c: out, accumulate: accumulate,
                threads: requested)
            return
        }
        let split = GEMMSplit(
            m: rows, n: columns, threads: small ? 1 : requested,
            inPlaceB: !opB.transposed && opB.type == .f32)

        parallelFor(split.count) { part in
            let r = split.rows(part), cs = split.columns(part)
            guard !r.isEmpty && !cs.isEmpty else { return }
            sgemmSerial(
                m: r.count, n: cs.count, k: k,
                a: opA.offset(row: r.lowerBound, column: 0),
                b: opB.offset(row: 0, column: cs.lowerBound),
                c: out.offset(row: r.lowerBound, column: cs.lowerBound), accumulate: accumulate)
        }
    }

    /// Whether `Cᵀ = op(B)ᵀ·op(A)ᵀ` pads clearly less than `C = op(A)·op(B)` to whole tiles.
    static func prefersTransposedProblem(m: Int, n: Int) -> Bool {
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        guard n < nr else { return false }
        let direct = roundUp(m, mr) * roundUp(n, nr)
        let swapped = roundUp(n, mr) * roundUp(m, nr)
        return 4 * swapped < 3 * direct
    }

    /// One thread's share of C: the BLIS loop nest over packed blocks.
    ///
    /// jc (nc columns) → pc (kc steps: pack B̃) → ic (mc rows: pack Ã) → jr (nr) → ir (mr) →
    /// micro-kernel. Edge tiles (and every tile of a transposed C) run the same micro-kernel
    /// on zero-padded panels into a scratch tile, then copy (or add) its valid part, so they
    /// sum exactly like full tiles.
    static func sgemmSerial(m: Int, n: Int, k: Int, a: Operand, b: Operand, c: Output, accumulate: Bool) {
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let kcMax = min(GEMMBlocking.kc, k)
        let mcMax = roundUp(min(GEMMBlocking.mc, m), mr)
        let ncMax = roundUp(min(GEMMBlocking.nc, n), nr)
        // Packing buffers come from a pool (no allocation or page faults in steady state).
        let aCount = mcMax * kcMax, bCount = kcMax * ncMax, tileCount = mr * nr
        ScratchPool.shared.withFloats(aCount + bCount + tileCount) { packedA in
            let packedB = packedA + aCount
            let tile = packedB + bCount
            sgemmBlocked(
                m: m, n: n, k: k, a: a, b: b, c: c, accumulate: accumulate,
                packedA: packedA, packedB: packedB, tile: tile)
        }
    }

    /// Row counts up to which B is read in place instead of packed (when stored untransposed):
    /// packing costs a pass over B that at most 11 A panels would reuse (a few row tiles over
    /// a long B, e.g. a ResNet 3×3 conv as GEMM, run faster in place; very long K with few
    /// rows does not). 11 tiles (not 8 = `mc/mr`) lets a 256³ product on two threads split
    /// into row halves that both read B in place instead of each packing half of it (with
    /// `GEMMSplit`'s `inPlaceB`).
    static let directBMaxRows = 11 * GEMMBlocking.mr

    static func sgemmBlocked(
        m: Int, n: Int, k: Int, a: Operand, b: Operand, c: Output, accumulate: Bool,
        packedA: UnsafeMutablePointer<Float>, packedB: UnsafeMutablePointer<Float>,
        tile: UnsafeMutablePointer<Float>
    ) {
        let nr = GEMMBlocking.nr
        let directB = !b.transposed && b.type == .f32 && m <= directBMaxRows
        for jc in stride(from: 0, to: n, by: GEMMBlocking.nc) {
            let ncb = min(GEMMBlocking.nc, n - jc)
            // In-place B: only a partial last panel needs packing (zero padding).
            let inPlaceWidth = directB ? ncb / nr * nr : 0
            for pc in stride(from: 0, to: k, by: GEMMBlocking.kc) {
                let kcb = min(GEMMBlocking.kc, k - pc)
                if inPlaceWidth < ncb {
                    packB(
                        b, rows: pc, count: kcb, columns: jc + inPlaceWidth, count: ncb - inPlaceWidth,
                        into: packedB + inPlaceWidth * kcb)
                }
                let loadC = accumulate || pc > 0
                macroBlock(
                    rows: 0..<m, columns: jc, count: ncb, depth: pc, count: kcb, a: a,
                    inPlace: b, width: inPlaceWidth, packedB: packedB, c: c, loadC: loadC,
                    packedA: packedA, tile: tile)
            }
        }
    }

    /// The ic → jr → ir loops of one (jc, pc) block over C rows `rows`: packs A per mc rows,
    /// then runs the register tiles against B's panels — the first `width` columns read in
    /// place from `inPlace` (untransposed B, stride `ld`), the rest from the packed block
    /// (`kcb` steps per 32-column panel). Full 12- (or 8-/4-) row tiles go straight to C; edge
    /// tiles go through `tile` and are merged. The register tiles are those of
    /// `KernelVariant.current`.
    static func macroBlock(
        rows: Range<Int>, columns jc: Int, count ncb: Int, depth pc: Int, count kcb: Int,
        a: Operand, inPlace b: Operand? = nil, width inPlaceWidth: Int = 0,
        packedB: UnsafeMutablePointer<Float>, c: Output, loadC: Bool,
        packedA: UnsafeMutablePointer<Float>, tile: UnsafeMutablePointer<Float>
    ) {
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let variant = KernelVariant.current
        for ic in stride(from: rows.lowerBound, to: rows.upperBound, by: GEMMBlocking.mc) {
            let mcb = min(GEMMBlocking.mc, rows.upperBound - ic)
            packA(a, rows: ic, count: mcb, columns: pc, count: kcb, into: packedA)
            for jr in stride(from: 0, to: ncb, by: nr) {
                let width = min(nr, ncb - jr)
                let inPlaceB = jr < inPlaceWidth ? b : nil
                let bPanel = inPlaceB.map { $0.base + (pc * $0.ld + jc + jr) } ?? UnsafePointer(packedB + jr * kcb)
                let bStride = inPlaceB?.ld ?? nr
                for ir in stride(from: 0, to: mcb, by: mr) {
                    let height = min(mr, mcb - ir)
                    let aPanel = UnsafePointer(packedA + ir * kcb)
                    let row = ic + ir, column = jc + jr
                    let rows = panelRows(height: height)
                    if rows == height && width == nr && !c.transposed {
                        panelKernel(
                            variant, rows: rows, kc: kcb, a: aPanel, b: bPanel, bStride: bStride,
                            c: c.base + row * c.ld + column, ldc: c.ld, loadC: loadC)
                    } else {
                        panelKernel(
                            variant, rows: rows, kc: kcb, a: aPanel, b: bPanel, bStride: bStride,
                            c: tile, ldc: nr, loadC: false)
                        c.merge(
                            tile: tile, stride: nr, row: row, column: column,
                            height: height, width: width, adding: loadC)
                    }
                }
            }
        }
    }

    @inline(__always)
    static func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }
}

/// A matrix operand `op(X)` of the SGEMM: its storage, its element type (float32, or a narrow
/// type that packing widens, `GEMM+PackNarrow.swift`) and whether it is read transposed.
struct Operand {
    let raw: UnsafeRawPointer
    let ld: Int
    let transposed: Bool
    let type: ScalarType

    init(base: UnsafePointer<Float>, ld: Int, transposed: Bool) {
        self.init(raw: UnsafeRawPointer(base), ld: ld, transposed: transposed, type: .f32)
    }

    init(_ input: Tiled.Input, ld: Int, transposed: Bool) {
        self.init(raw: input.raw, ld: ld, transposed: transposed, type: input.type)
    }

    init(raw: UnsafeRawPointer, ld: Int, transposed: Bool, type: ScalarType) {
        self.raw = raw
        self.ld = ld
        self.transposed = transposed
        self.type = type
    }

    /// The float32 storage (only for `type == .f32`).
    @inline(__always)
    var base: UnsafePointer<Float> { raw.assumingMemoryBound(to: Float.self) }

    /// The operand starting at `op(X)[row, column]`.
    @inline(__always)
    func offset(row: Int, column: Int) -> Operand {
        let element = transposed ? column * ld + row : row * ld + column
        return Operand(raw: raw + element * type.byteWidth, ld: ld, transposed: transposed, type: type)
    }

    /// `op(X)ᵀ` over the same storage.
    var transposedView: Operand { Operand(raw: raw, ld: ld, transposed: !transposed, type: type) }
}

/// Where the SGEMM writes `C[i, j]`: `base[i·ld + j]`, or `base[j·ld + i]` when the
/// problem was transposed (computing Cᵀ into C's storage).
struct Output {
    let base: UnsafeMutablePointer<Float>
    let ld: Int
    let transposed: Bool

    @inline(__always)
    func offset(row: Int, column: Int) -> Output {
        Output(base: base + (transposed ? column * ld + row : row * ld + column), ld: ld, transposed: transposed)
    }

    /// `C[row + r, column + j] = (adding ? C : 0) + tile[r·stride + j]` for the valid part.
    @inline(__always)
    func merge(
        tile: UnsafeMutablePointer<Float>, stride: Int, row: Int, column: Int,
        height: Int, width: Int, adding: Bool
    ) {
        if transposed {
            for j in 0..<width {
                let dst = base + (column + j) * ld + row
                for r in 0..<height {
                    let v = tile[r * stride + j]
                    dst[r] = adding ? dst[r] + v : v
                }
            }
        } else {
            for r in 0..<height {
                let dst = base + (row + r) * ld + column, src = tile + r * stride
                if adding {
                    for j in 0..<width { dst[j] = dst[j] + src[j] }
                } else {
                    dst.update(from: src, count: width)
                }
            }
        }
    }
}

/// How C is cut into `rowParts × columnParts` blocks for threads, in whole register tiles.
///
/// Picks, over thread counts up to `threads` and their factorizations, the split with the
/// smallest largest block (in tiles). Blocks only decide which thread computes an element.
///
/// `inPlaceB`: B is stored untransposed, so a block of at most `directBMaxRows` rows reads
/// it in place (`sgemmBlocked`). Among equally large blocks such a split comes first: no
/// thread packs B. Otherwise ties go to fewer threads, then to more column parts.
struct GEMMSplit: Sendable {
    let m: Int, n: Int
    let rowParts: Int, columnParts: Int
    let rowTiles: Int, columnTiles: Int

    init(m: Int, n: Int, threads: Int, inPlaceB: Bool = false) {
        self.m = m
        self.n = n
        let rowTiles = (m + GEMMBlocking.mr - 1) / GEMMBlocking.mr
        let columnTiles = (n + GEMMBlocking.nr - 1) / GEMMBlocking.nr
        self.rowTiles = rowTiles
        self.columnTiles = columnTiles
        let t = max(1, min(threads, rowTiles * columnTiles))
        let maxInPlaceTiles = inPlaceB ? Tiled.directBMaxRows / GEMMBlocking.mr : 0
        /// A split's rank: its largest block in tiles, then 1 if its row blocks pack B.
        func rank(rows: Int, columns: Int) -> (Int, Int) {
            let blockRows = (rowTiles + rows - 1) / rows
            return (blockRows * ((columnTiles + columns - 1) / columns), blockRows <= maxInPlaceTiles ? 0 : 1)
        }
        var best = (rows: 1, columns: 1, rank: rank(rows: 1, columns: 1))
        for used in 2...max(2, t) where used <= t {
            for columns in stride(from: used, through: 1, by: -1) where used % columns == 0 {
                let rows = used / columns
                guard rows <= rowTiles && columns <= columnTiles else { continue }
                let r = rank(rows: rows, columns: columns)
                if r < best.rank { best = (rows, columns, r) }
            }
        }
        rowParts = best.rows
        columnParts = best.columns
    }

    var count: Int { rowParts * columnParts }

    func rows(_ part: Int) -> Range<Int> {
        let p = part / columnParts
        let lo = p * rowTiles / rowParts * GEMMBlocking.mr
        let hi = min(m, (p + 1) * rowTiles / rowParts * GEMMBlocking.mr)
        return lo..<max(lo, hi)
    }

    func columns(_ part: Int) -> Range<Int> {
        let p = part % columnParts
        let lo = p * columnTiles / columnParts * GEMMBlocking.nr
        let hi = min(n, (p + 1) * columnTiles / columnParts * GEMMBlocking.nr)
        return lo..<max(lo, hi)
    }
}
