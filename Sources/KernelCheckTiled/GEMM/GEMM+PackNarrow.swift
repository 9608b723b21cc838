// Packing of operands stored in a narrow type (bf16, f16, fp8): each block is widened to
// float32 on its way into the packed panels, so the micro-kernels, the blocking and the
// summation order are exactly those of float32 operands. Widening is exact, so the packed
// panels hold the same numbers `packA` / `packB` would pack from a widened copy.
//
// Where the float32 packer reads contiguous runs straight into a panel (B untransposed),
// the runs are widened straight into the panel. Where it transposes (A untransposed, B
// transposed, A transposed), the block is first widened into a float32 staging block of the
// same layout (at most mc × kc or nr × kc floats, cache-resident) and the float32 packer's
// register transposes run on it.

extension Tiled {
    /// `packA` for a narrow `a`: the same panels, widened.
    static func packANarrow(
        _ a: Operand, rows rows0: Int, count rowCount: Int,
        columns cols0: Int, count colCount: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        let input = Input(bits: a.raw, type: a.type)
        ScratchPool.shared.withFloats(rowCount * colCount) { stage in
            let staged: Operand
            if a.transposed {
                // Stored row p (k step cols0 + p) holds the rowCount values of that step.
                for p in 0..<colCount {
                    widen(
                        input.advanced(by: (cols0 + p) * a.ld + rows0), count: rowCount, into: stage + p * rowCount)
                }
                staged = Operand(base: stage, ld: rowCount, transposed: true)
            } else {
                for r in 0..<rowCount {
                    widen(input.advanced(by: (rows0 + r) * a.ld + cols0), count: colCount, into: stage + r * colCount)
                }
                staged = Operand(base: stage, ld: colCount, transposed: false)
            }
            packA(staged, rows: 0, count: rowCount, columns: 0, count: colCount, into: dst)
        }
    }

    /// `packB` for a narrow `b`: the same panels, widened.
    static func packBNarrow(
        _ b: Operand, rows rows0: Int, count rowCount: Int,
        columns cols0: Int, count colCount: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        let nr = GEMMBlocking.nr
        let kc = rowCount
        let input = Input(bits: b.raw, type: b.type)
        if b.transposed {
            // Stored row j (column cols0 + j of op(B)) holds its kc k steps: widen one panel's
            // nr stored rows, then transpose them as `packB` does.
            ScratchPool.shared.withFloats(nr * kc) { stage in
                for jr in stride(from: 0, to: colCount, by: nr) {
                    let width = min(nr, colCount - jr)
                    for j in 0..<width {
                        widen(input.advanced(by: (cols0 + jr + j) * b.ld + rows0), count: kc, into: stage + j * kc)
                    }
                    packB(
                        Operand(base: stage, ld: kc, transposed: true), rows: 0, count: kc, columns: 0,
                        count: width, into: dst + jr * kc)
                }
            }
            return
        }
        // op(B)[p, j] = B[p, j]: each k step of a panel is a contiguous run, widened in place.
        for jr in stride(from: 0, to: colCount, by: nr) {
            let width = min(nr, colCount - jr)
            let panel = dst + jr * kc
            for p in 0..<kc {
                let out = panel + p * nr
                widen(input.advanced(by: (rows0 + p) * b.ld + cols0 + jr), count: width, into: out)
                if width < nr { (out + width).update(repeating: 0, count: nr - width) }
            }
        }
    }
}
