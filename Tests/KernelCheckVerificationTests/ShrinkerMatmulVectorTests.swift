import KernelCheckCore
import KernelCheckProblems
import Testing

@testable import KernelCheckVerification

/// Shrinking a matmul with a 1-D operand (torch.matmul's vector): the vector holds only K, so
/// it has no M (or N) to shrink and stays 1-D; a matrix operand without batch dims becomes a
/// vector too (rank 1 is simpler). The minimum follows from the validation rules: batch dims
/// dropped, K = 0, both operands the empty vector.
@Suite("Shrinker with 1-D matmul operands")
struct ShrinkerMatmulVectorTests {
    @Test(
        "Always-failing predicate shrinks a vector problem to its minimum through valid, smaller candidates",
        arguments: [
            ("matmul a=4 b=2x4x1 ta=0 tb=0", "matmul a=0 b=0 ta=0 tb=0"),
            ("matmul a=1x2x4x3 b=3 ta=0 tb=0", "matmul a=0 b=0 ta=0 tb=0"),
            ("matmul a=3 b=3 ta=0 tb=0", "matmul a=0 b=0 ta=0 tb=0"),
            ("matmul a=5 b=3x7x5 ta=0 tb=1", "matmul a=0 b=0 ta=0 tb=0"),
            ("matmul a=2x5x7 b=5 ta=1 tb=0", "matmul a=0 b=0 ta=0 tb=0"),
        ])
    func shrinksToMinimum(_ start: String, _ minimum: String) throws {
        let p = try Problem.parse(start)
        for q in Shrinker.candidates(p) {
            try q.descriptor.validate()
            #expect(Shrinker.measure(q) < Shrinker.measure(p), "\(q) is not smaller than \(p)")
        }
        let (q, _) = Shrinker.shrink(p) { _ in true }
        #expect(q == (try Problem.parse(minimum)), "\(p) shrank to \(q)")
    }
}
