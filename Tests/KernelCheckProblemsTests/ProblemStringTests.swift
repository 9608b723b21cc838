import KernelCheckCore
import Testing

@testable import KernelCheckProblems

@Suite struct ProblemStringTests {
    static let canonical = [
        "conv2d n=2 ic=3 oc=8 g=1 in=5x5 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=1",
        "conv1d n=1 ic=32 oc=64 g=1 in=10 k=3 s=1 d=1 p=same bias=0",
        "conv3d n=1 ic=4 oc=4 g=4 in=3x4x5 k=1x2x3 s=2x1x1 d=1x2x1 p=0x1x0:1x0x2 bias=1",
        "conv2d n=1 ic=2 oc=2 g=1 in=5x4 k=3x3 s=2x2 d=1x1 p=same_lower bias=0",
        "convt2d n=1 ic=4 oc=2 g=2 in=3x3 k=4x4 s=2x2 d=1x1 p=same op=0x0 bias=1",
        "convt1d n=2 ic=3 oc=6 g=1 in=7 k=3 s=3 d=1 p=1:0 op=2 bias=0",
        "padproj_a n=2 c=3 in=8x8 s=2x2 before=7 after=6",
        "padproj_b n=1 ic=64 oc=256 in=8x8 s=2x2 eps=1e-05",
        "matmul a=2x1x3x4 b=5x4x6 ta=0 tb=0",
        "matmul a=4x3 b=6x4 ta=1 tb=1",
        "matmul a=4 b=2x4x1 ta=0 tb=0",
        "matmul a=3 b=3 ta=0 tb=0",
        "linear x=4x5 out=3 bias=1",
        "relu shape=2x3",
        "leaky_relu shape=2x3 slope=0.01",
        "sigmoid shape=7",
        "tanh shape=1x2x3",
        "mse shape=4x3",
        "sumsq shape=scalar",
    ]

    @Test(arguments: canonical)
    func canonicalStringsRoundTrip(_ text: String) throws {
        let p = try Problem.parse(text)
        #expect(p.description == text)
        #expect(try Problem.parse(p.description) == p)
    }

    /// Defaults and shorthands parse to the same value as the canonical form.
    @Test func shorthandsNormalize() throws {
        #expect(
            try Problem.parse("conv2d n=1 ic=1 oc=1 in=3x3 k=2 s=2 p=1").description
                == "conv2d n=1 ic=1 oc=1 g=1 in=3x3 k=2x2 s=2x2 d=1x1 p=1x1:1x1 bias=0")
        #expect(
            try Problem.parse("padproj_a n=1 c=3 in=4x4 oc=16").description
                == "padproj_a n=1 c=3 in=4x4 s=1x1 before=6 after=7")
    }

    @Test(arguments: [
        ("conv2d n=1 ic=3 oc=8 g=2 in=5x5 k=3x3", "g"),
        ("conv2d n=1 ic=4 oc=6 g=4 in=5x5 k=3x3", "g"),
        ("conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 s=0x1", "s"),
        ("conv2d n=1 ic=1 oc=1 in=5x5 k=3x3 d=1x0", "d"),
        ("conv2d n=1 ic=1 oc=1 in=2x2 k=3x3", "k"),
        ("conv1d n=1 ic=1 oc=1 in=5 k=2 d=5", "k"),
        ("conv2d n=-1 ic=1 oc=1 in=5x5 k=3x3", "n"),
        ("convt2d n=1 ic=1 oc=1 in=3x3 k=3x3 s=2x2 op=2x0", "op"),
        ("convt1d n=1 ic=1 oc=1 in=3 k=3 s=1 d=2 op=2", "op"),
        ("convt1d n=1 ic=1 oc=1 in=1 k=1 s=1 p=1", "p"),
        ("convt1d n=1 ic=1 oc=1 in=4 k=1 s=4 p=same", "p"),
        ("padproj_a n=1 c=3 in=4x4 before=-1 after=2", "before"),
        ("padproj_b n=1 ic=1 oc=1 in=4x4 eps=0", "eps"),
        ("matmul a=3x4 b=5x6", "b"),
        ("matmul a=2x3x4 b=3x4x5", "b"),
        ("matmul a=scalar b=4x5", "a"),
        ("matmul a=4x5 b=scalar", "b"),
        ("matmul a=4 b=5x6", "b"),
        ("matmul a=4 b=4 ta=1", "ta"),
        ("matmul a=4 b=4 tb=1", "tb"),
        ("leaky_relu shape=2 slope=inf", "slope"),
        ("mse shape=0", "shape"),
    ])
    func invalidDescriptorsNameTheField(_ text: String, _ field: String) {
        do {
            _ = try Problem.parse(text)
            Issue.record("'\(text)' should be invalid")
        } catch let error {
            switch error {
            case .invalidField(_, let f, _): #expect(f == field, "\(error)")
            case .malformed: #expect(field == "slope", "\(error)")  // a non-finite number is a parse error
            default: Issue.record("unexpected \(error)")
            }
        }
    }

    @Test(arguments: [
        "", "conv2d", "conv2d n=1", "conv9d n=1 ic=1 oc=1 in=3 k=1", "conv2d n=1 ic=1 oc=1 in=3x3 k=3x3 zz=1",
        "conv2d n=1 n=2 ic=1 oc=1 in=3x3 k=3x3", "conv2d n=x ic=1 oc=1 in=3x3 k=3x3",
        "conv2d n=1 ic=1 oc=1 in=3x3x3 k=3x3",
        "conv2d n=1 ic=1 oc=1 in=3x3 k=3x3 p=1:2:3", "matmul a=2x b=3", "relu shape=2x3 extra", "relu =3",
        "padproj_a n=1 c=1 in=2x2 oc=4 before=1", "conv2d n=1 ic=1 oc=1 in=3x3 k=3x3 bias=2",
    ])
    func malformedStringsAreTypedErrors(_ text: String) {
        #expect(throws: ProblemError.self) { try Problem.parse(text) }
    }

    @Test func memoryBudgetIsCheckedBeforeAllocation() {
        let text = "conv2d n=1024 ic=1024 oc=1024 in=1024x1024 k=3x3"
        do {
            _ = try Problem.parse(text)
            Issue.record("should exceed the budget")
        } catch {
            guard case .exceedsMemoryBudget(let op, let bytes, _) = error else { Issue.record("\(error)"); return }
            #expect(op == "conv2d" && bytes > MemoryBudget.bytes)
        }
    }

    @Test func directionsAndRoles() throws {
        let p = try Problem.parse("conv2d n=2 ic=4 oc=6 g=2 in=5x5 k=3x3 p=1 bias=1")
        #expect(p.directions == [.fwd, .bwdData, .bwdWeights, .bwdBias])
        let d = p.descriptor
        #expect(d.inputs(for: .bwdWeights).map(\.role) == ["x", "dy"])
        #expect(d.output(for: .bwdData) == TensorSpec("dx", [2, 4, 5, 5]))
        #expect(d.output(for: .bwdWeights) == TensorSpec("dw", [6, 2, 3, 3]))
        // Forward MACs: N·Cout·∏out·(Cin/g)·∏k = 2·6·25·2·9.
        #expect(d.flops(for: .fwd) == 2 * 2 * 6 * 25 * 2 * 9)
        #expect(d.accumulationLength(for: .fwd) == 2 * 9 + 1)
    }
}
