// Register tiles as nested structs of SIMD accumulators. Once a kernel is specialised for
// one tile type, every method inlines and the optimiser splits the structs into scalar
// values, so each accumulator lives in a vector register: the same code as a tile written
// out accumulator by accumulator, without the copies. (An array or a loop over accumulators
// is not enough: LLVM keeps those in memory on the stack.)

/// `count` rows of a register tile, each row r holding the accumulators of one row of C.
/// `add` is one K step: every accumulator of row r gets one fused multiply-add of `a[r]`
/// with its B vector, so a tile's element sums its products in step order.
protocol TileRows {
    /// The B vectors of one K step: one per accumulator of a row.
    associatedtype Vectors
    static var count: Int { get }
    /// The B vectors of one K step stored contiguously at `b`.
    static func vectors(at b: UnsafeRawPointer) -> Vectors
    init()
    /// `acc[r][j] = fma(a[r], v[j], acc[r][j])` for r in `0..<count`.
    mutating func add(_ a: UnsafePointer<Float>, _ v: Vectors)
    /// Row r to `c + r·ldc` (`*p = acc` or, with `adding`, `*p += acc`); a two-vector row
    /// puts its second vector `second` floats after its first.
    func store(_ c: UnsafeMutablePointer<Float>, ldc: Int, second: Int, adding: Bool)
}

/// Tiles whose rows can also take their A values gathered through a table of offsets and
/// start from stored partial sums (the lane backward-weights, `TiledConv+LaneWeights.swift`).
protocol GatheringTileRows: TileRows {
    /// `add` with `a[r]` = `x[offsets[r]]`: row r's value gathered from `x`.
    mutating func add(gathering x: UnsafePointer<Float>, _ offsets: UnsafePointer<Int>, _ v: Vectors)
    /// Row r from `c + r·ldc` (the layout `store` writes).
    mutating func load(_ c: UnsafePointer<Float>, ldc: Int, second: Int)
}

/// One row of two vectors of `V`, the second `second` floats after the first: 32 columns of
/// `SIMD16` (the `avx512` tile), 16 of `SIMD8` (`avx2`), 8 of `SIMD4` (`neon`).
struct TileRowPair<V: SIMD>: GatheringTileRows where V.Scalar == Float {
    var lo = V(), hi = V()
    static var count: Int { 1 }
    @inline(__always) init() {}

    @inline(__always)
    static func vectors(at b: UnsafeRawPointer) -> (V, V) {
        (b.loadUnaligned(as: V.self), b.loadUnaligned(fromByteOffset: 4 &* V.scalarCount, as: V.self))
    }

    @inline(__always)
    mutating func add(_ a: UnsafePointer<Float>, _ v: (V, V)) {
        let x = a[0]
        lo = lo.addingProduct(x, v.0)
        hi = hi.addingProduct(x, v.1)
    }

    @inline(__always)
    mutating func add(gathering x: UnsafePointer<Float>, _ offsets: UnsafePointer<Int>, _ v: (V, V)) {
        let s = x[offsets[0]]
        lo = lo.addingProduct(s, v.0)
        hi = hi.addingProduct(s, v.1)
    }

    @inline(__always)
    mutating func load(_ c: UnsafePointer<Float>, ldc: Int, second: Int) {
        lo = UnsafeRawPointer(c).loadUnaligned(as: V.self)
        hi = UnsafeRawPointer(c + second).loadUnaligned(as: V.self)
    }

    @inline(__always)
    func store(_ c: UnsafeMutablePointer<Float>, ldc: Int, second: Int, adding: Bool) {
        Tiled.store(lo, c, adding: adding)
        Tiled.store(hi, c + second, adding: adding)
    }
}

/// One row of 32 columns: two `SIMD16` vectors.
typealias TileRow = TileRowPair<SIMD16<Float>>

/// One row of 16 columns: a single vector (a column of the wide tiles, `TileColumn`).
struct TileLane: TileRows {
    var acc = SIMD16<Float>()
    static var count: Int { 1 }
    @inline(__always) init() {}

    @inline(__always)
    static func vectors(at b: UnsafeRawPointer) -> SIMD16<Float> { b.loadUnaligned(as: SIMD16<Float>.self) }

    @inline(__always)
    mutating func add(_ a: UnsafePointer<Float>, _ v: SIMD16<Float>) { acc = acc.addingProduct(a[0], v) }

    @inline(__always)
    func store(_ c: UnsafeMutablePointer<Float>, ldc: Int, second: Int, adding: Bool) {
        Tiled.store(acc, c, adding: adding)
    }
}

/// `Top`'s rows, then `Bottom`'s: `Top.count + Bottom.count` rows.
struct StackedRows<Top: TileRows, Bottom: TileRows>: TileRows where Bottom.Vectors == Top.Vectors {
    var top = Top(), bottom = Bottom()
    static var count: Int { Top.count + Bottom.count }
    @inline(__always) init() {}

    @inline(__always)
    static func vectors(at b: UnsafeRawPointer) -> Top.Vectors { Top.vectors(at: b) }

    @inline(__always)
    mutating func add(_ a: UnsafePointer<Float>, _ v: Top.Vectors) {
        top.add(a, v)
        bottom.add(a + Top.count, v)
    }

    @inline(__always)
    func store(_ c: UnsafeMutablePointer<Float>, ldc: Int, second: Int, adding: Bool) {
        top.store(c, ldc: ldc, second: second, adding: adding)
        bottom.store(c + Top.count &* ldc, ldc: ldc, second: second, adding: adding)
    }
}

extension StackedRows: GatheringTileRows where Top: GatheringTileRows, Bottom: GatheringTileRows {
    @inline(__always)
    mutating func add(gathering x: UnsafePointer<Float>, _ offsets: UnsafePointer<Int>, _ v: Top.Vectors) {
        top.add(gathering: x, offsets, v)
        bottom.add(gathering: x, offsets + Top.count, v)
    }

    @inline(__always)
    mutating func load(_ c: UnsafePointer<Float>, ldc: Int, second: Int) {
        top.load(c, ldc: ldc, second: second)
        bottom.load(c + Top.count &* ldc, ldc: ldc, second: second)
    }
}

typealias Stacked2<Row: TileRows> = StackedRows<Row, Row>
typealias Stacked4<Row: TileRows> = Stacked2<Stacked2<Row>>
/// The 4-, 8- and 12-row tiles 32 columns wide of the SGEMM and the direct convolution
/// (`avx512`).
typealias TileRows4 = Stacked4<TileRow>
typealias TileRows8 = Stacked2<TileRows4>
typealias TileRows12 = StackedRows<TileRows8, TileRows4>
/// The `avx2` tiles, 16 columns of `SIMD8` (12 or 8 accumulators: 16 ymm registers hold them,
/// the 2 B vectors and the broadcast), and the `neon` tiles, 8 columns of `SIMD4` (24, 16 or
/// 8 accumulators of 32 registers).
typealias Rows4x16 = Stacked4<TileRowPair<SIMD8<Float>>>
typealias Rows6x16 = StackedRows<Rows4x16, Stacked2<TileRowPair<SIMD8<Float>>>>
typealias Rows4x8 = Stacked4<TileRowPair<SIMD4<Float>>>
typealias Rows8x8 = Stacked2<Rows4x8>
typealias Rows12x8 = StackedRows<Rows8x8, Rows4x8>

/// Vectors of 16 consecutive columns side by side, each with the same rows: the wide tiles
/// of the direct forward (a few output channels × many pixel vectors). A K step loads each
/// vector of B once, at `b + 64·j` bytes, and runs all of its rows before the next.
protocol TileColumns {
    /// The vectors side by side, and the rows of each.
    static var count: Int { get }
    static var rows: Int { get }
    init()
    /// `acc[r][j] = fma(a[r], B[j], acc[r][j])`, `B[j]` the 16 floats at `b + 64·j` bytes.
    mutating func add(_ a: UnsafePointer<Float>, _ b: UnsafeRawPointer)
    /// Element (r, 16·j + i) to `c[r·ldc + 16·j + i]` (or added to it).
    func store(_ c: UnsafeMutablePointer<Float>, ldc: Int, adding: Bool)
}

/// One vector of 16 columns with the rows of `Lanes`.
struct TileColumn<Lanes: TileRows>: TileColumns where Lanes.Vectors == SIMD16<Float> {
    var lanes = Lanes()
    static var count: Int { 1 }
    static var rows: Int { Lanes.count }
    @inline(__always) init() {}

    @inline(__always)
    mutating func add(_ a: UnsafePointer<Float>, _ b: UnsafeRawPointer) {
        lanes.add(a, b.loadUnaligned(as: SIMD16<Float>.self))
    }

    @inline(__always)
    func store(_ c: UnsafeMutablePointer<Float>, ldc: Int, adding: Bool) {
        lanes.store(c, ldc: ldc, second: 0, adding: adding)
    }
}

/// `Left`'s vectors, then `Right`'s.
struct SideBySide<Left: TileColumns, Right: TileColumns>: TileColumns {
    var left = Left(), right = Right()
    static var count: Int { Left.count + Right.count }
    static var rows: Int { Left.rows }
    @inline(__always) init() {}

    @inline(__always)
    mutating func add(_ a: UnsafePointer<Float>, _ b: UnsafeRawPointer) {
        left.add(a, b)
        right.add(a, b + 64 &* Left.count)
    }

    @inline(__always)
    func store(_ c: UnsafeMutablePointer<Float>, ldc: Int, adding: Bool) {
        left.store(c, ldc: ldc, adding: adding)
        right.store(c + 16 &* Left.count, ldc: ldc, adding: adding)
    }
}

typealias Columns2<Column: TileColumns> = SideBySide<Column, Column>
typealias Columns4<Column: TileColumns> = Columns2<Columns2<Column>>
/// The wide tiles: 2 channels × 12 vectors, 3 × 8 and 4 × 6 (24 accumulators each).
typealias WideTile2x12 = SideBySide<
    Columns4<Columns2<TileColumn<Stacked2<TileLane>>>>, Columns4<TileColumn<Stacked2<TileLane>>>
>
typealias WideTile3x8 = Columns4<Columns2<TileColumn<StackedRows<Stacked2<TileLane>, TileLane>>>>
typealias WideTile4x6 = SideBySide<Columns4<TileColumn<Stacked4<TileLane>>>, Columns2<TileColumn<Stacked4<TileLane>>>>
