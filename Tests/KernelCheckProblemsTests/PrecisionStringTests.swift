import KernelCheckCore
import Testing

@testable import KernelCheckProblems

@Suite struct PrecisionStringTests {
    static let canonical = [
        "conv2d n=2 ic=3 oc=8 g=1 in=5x5 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=1 dt=bf16",
        "conv1d n=1 ic=4 oc=4 g=1 in=10 k=3 s=1 d=1 p=same bias=0 dt=f16 acc=f16",
        "convt2d n=1 ic=4 oc=2 g=2 in=3x3 k=4x4 s=2x2 d=1x1 p=same op=0x0 bias=1 dt=f8e4m3 odt=f32",
        "matmul a=4x3 b=3x6 ta=0 tb=0 dt=f8e5m2 acc=f16 odt=f16",
        "linear x=4x5 out=3 bias=1 dt=f16 odt=f32",
    ]

    @Test(arguments: canonical)
    func roundTrips(_ text: String) throws {
        let p = try Problem.parse(text)
        #expect(p.description == text)
        #expect(try Problem.parse(p.description) == p)
        #expect(!p.descriptor.precision.isFloat32)
    }

    @Test func defaultsAndAliases() throws {
        let old = try Problem.parse("matmul a=4x3 b=3x6")
        #expect(old.descriptor.precision == .float32)
        let bf = try Problem.parse("matmul a=4x3 b=3x6 dt=bf16")
        #expect(bf.descriptor.precision == Precision(storage: .bf16, accumulation: .f32, output: .bf16))
        // `out=<type>` is accepted for the output type where `out` is not another field.
        let alias = try Problem.parse("matmul a=4x3 b=3x6 dt=f16 out=f32")
        #expect(alias.description == "matmul a=4x3 b=3x6 ta=0 tb=0 dt=f16 odt=f32")
        // Explicit defaults print away.
        let explicit = try Problem.parse("matmul a=4x3 b=3x6 dt=f32 acc=f32 odt=f32")
        #expect(explicit == old)
    }

    @Test(arguments: [
        ("matmul a=4x3 b=3x6 dt=f32 acc=f16", "acc"),
        ("matmul a=4x3 b=3x6 dt=bf16 acc=f16", "acc"),
        ("matmul a=4x3 b=3x6 dt=bf16 odt=f16", "odt"),
        ("matmul a=4x3 b=3x6 dt=f16 acc=bf16", "acc"),
        ("matmul a=4x3 b=3x6 dt=f12", "dt"),
        ("relu shape=2x3 dt=bf16", "dt"),
        ("padproj_b n=1 ic=4 oc=8 in=4x4 s=2x2 eps=1e-05 odt=f16", "odt"),
    ])
    func invalidCombinationsNameTheField(_ text: String, _ field: String) {
        do {
            _ = try Problem.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            guard case .invalidField(_, let f, _) = error else {
                Issue.record("\(text): \(error)")
                return
            }
            #expect(f == field, "\(error)")
        }
    }

    @Test func linearKeepsOutForFeatures() throws {
        let p = try Problem.parse("linear x=2x3 out=4 dt=bf16 odt=f32")
        guard case .linear(let l) = p else { Issue.record("not linear"); return }
        #expect(l.outFeatures == 4)
        #expect(l.precision.output == .f32)
    }
}
