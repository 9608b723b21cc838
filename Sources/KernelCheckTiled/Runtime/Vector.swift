extension Tiled {
    /// The `V.scalarCount` floats at `p` as one vector; `p` need not be aligned.
    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<Float>, as _: V.Type = V.self) -> V where V.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    /// Writes the lanes of `v` to `p`, `p + 1`, …; `p` need not be aligned.
    @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }
}
