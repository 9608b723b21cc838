import KernelCheckCore
import KernelCheckProblems
import Testing

@testable import KernelCheckVerification

@Suite("Shrinker")
struct ShrinkerTests {
    @Test("Every candidate is valid, distinct and strictly smaller", arguments: OpFamily.allCases)
    func candidatesAreValidAndSmaller(family: OpFamily) throws {
        var rng = SeededRNG(seed: 31, stream: "shrink-\(family.rawValue)")
        var total = 0
        for _ in 0..<100 {
            let p = ProblemGenerator.random(family, rng: &rng)
            let candidates = Shrinker.candidates(p)
            #expect(Set(candidates).count == candidates.count, "duplicate candidates of \(p)")
            for q in candidates {
                try q.descriptor.validate()
                #expect(q != p)
                #expect(q.family == family)
                #expect(Shrinker.measure(q) < Shrinker.measure(p), "\(q) is not smaller than \(p)")
            }
            total += candidates.count
        }
        #expect(total > 100, "\(family): almost no candidates (\(total)) for 100 problems")
    }

    /// With a predicate that always fails, greedy shrinking must reach the smallest problem of
    /// the family, from any start. The minima, derived from the validation rules:
    /// - conv: n, ic, oc = 0, g = 1, rank 1, k = s = d = 1, no bias; `valid` then needs
    ///   in ≥ d·(k−1)+1 = 1 (in = 0 would need padding, which weighs 2 per unit);
    /// - convt: same, with in ≥ 1 by rule and op = 0;
    /// - padproj_a: everything 0 except stride 1 (rank 1); padproj_b: in ≥ 1, ε kept;
    /// - matmul: both operands the empty vector (rank 1 is the minimum), no transposes;
    /// - linear: x = [0] (rank ≥ 1), out = 0; activation and loss: the scalar shape.
    @Test("Always-failing predicate shrinks to the family's minimum", arguments: OpFamily.allCases)
    func shrinksToMinimum(family: OpFamily) throws {
        var rng = SeededRNG(seed: 77, stream: "minimum-\(family.rawValue)")
        for _ in 0..<40 {
            let p = ProblemGenerator.random(family, rng: &rng)
            let (q, steps) = Shrinker.shrink(p) { _ in true }
            #expect(Shrinker.candidates(q).isEmpty)
            #expect(steps <= Shrinker.measure(p))
            let expected: String
            switch q {
            case .conv: expected = "conv1d n=0 ic=0 oc=0 g=1 in=1 k=1 s=1 d=1 p=valid bias=0"
            case .convTranspose: expected = "convt1d n=0 ic=0 oc=0 g=1 in=1 k=1 s=1 d=1 p=valid op=0 bias=0"
            case .padProjectionA: expected = "padproj_a n=0 c=0 in=0 s=1 before=0 after=0"
            case .padProjectionB(let b): expected = "padproj_b n=0 ic=0 oc=0 in=1 s=1 eps=\(b.epsilon)"
            case .matmul: expected = "matmul a=0 b=0 ta=0 tb=0"
            case .linear: expected = "linear x=0 out=0 bias=0"
            case .activation(let a): expected = try Problem(ActivationProblem(a.kind, shape: [])).description
            case .loss(let l): expected = "\(l.kind.rawValue) shape=scalar"
            }
            #expect(q == (try Problem.parse(expected)), "\(p) shrank to \(q), expected \(expected)")
        }
    }

    @Test("'Fails when grouped' shrinks to the smallest grouped convolution")
    func groupedConvolution() throws {
        // The predicate: a grouped conv with data. Smallest such problem: 2 groups of one
        // input and one output channel, one batch item, one pixel, 1-tap kernel.
        let fails: (Problem) -> Bool = {
            guard case .conv(let c) = $0 else { return false }
            return c.groups > 1 && c.inChannels > 0 && c.outChannels > 0 && c.batch > 0
        }
        let minimal = try Problem.parse("conv1d n=1 ic=2 oc=2 g=2 in=1 k=1 s=1 d=1 p=valid bias=0")
        var rng = SeededRNG(seed: 5, stream: "grouped")
        var started = 0
        while started < 30 {
            let p = ProblemGenerator.random(.conv, rng: &rng)
            guard fails(p) else { continue }
            started += 1
            let (q, steps) = Shrinker.shrink(p, stillFails: fails)
            #expect(q == minimal, "\(p) shrank to \(q)")
            #expect(steps > 0 || p == minimal)
        }
    }

    @Test("A matmul predicate on K and a transpose keeps exactly what it needs")
    func matmulPredicate() throws {
        let start = try Problem.parse("matmul a=2x1x3x40x9 b=3x5x40 ta=1 tb=1")
        let (q, steps) = Shrinker.shrink(start) {
            guard case .matmul(let m) = $0 else { return false }
            return m.transposeB && m.k >= 17
        }
        // The batch goes, A becomes the vector of K (ta to 0), N to 0; K stops at 17 and tb
        // stays, so B stays a matrix: B = N×K.
        #expect(q == (try Problem.parse("matmul a=17 b=0x17 ta=0 tb=1")))
        #expect(steps > 0)
    }

    @Test("Candidates include the group reductions that keep channels legal")
    func depthwiseCandidates() throws {
        let p = try Problem.parse("conv1d n=1 ic=4 oc=8 g=4 in=3 k=3 s=1 d=1 p=valid bias=0")
        let c = Set(Shrinker.candidates(p).map(\.description))
        // Fewer groups with the same channels per group (1 in, 2 out).
        #expect(c.contains("conv1d n=1 ic=1 oc=2 g=1 in=3 k=3 s=1 d=1 p=valid bias=0"))
        #expect(c.contains("conv1d n=1 ic=2 oc=4 g=2 in=3 k=3 s=1 d=1 p=valid bias=0"))
        // Channels only in multiples of the groups: ic 4 → 0 (never 2 or 3 with g = 4).
        #expect(c.contains("conv1d n=1 ic=0 oc=8 g=4 in=3 k=3 s=1 d=1 p=valid bias=0"))
        #expect(!c.contains("conv1d n=1 ic=2 oc=8 g=4 in=3 k=3 s=1 d=1 p=valid bias=0"))
        // The kernel cannot grow past the input: k 3 → 1 and 2 are legal, in 3 → 2 is not.
        #expect(c.contains("conv1d n=1 ic=4 oc=8 g=4 in=3 k=1 s=1 d=1 p=valid bias=0"))
        #expect(!c.contains("conv1d n=1 ic=4 oc=8 g=4 in=2 k=3 s=1 d=1 p=valid bias=0"))
    }

    @Test("Explicit padding folds into the input")
    func paddingFolds() throws {
        let p = try Problem.parse("conv2d n=1 ic=1 oc=1 g=1 in=2x3 k=3x3 s=1x1 d=1x1 p=1x0:2x1 bias=0")
        let c = Set(Shrinker.candidates(p).map(\.description))
        #expect(c.contains("conv2d n=1 ic=1 oc=1 g=1 in=5x4 k=3x3 s=1x1 d=1x1 p=valid bias=0"))
    }

    @Test("maxSteps bounds the number of moves; a throwing predicate rethrows")
    func stepCap() throws {
        let p = try Problem.parse("matmul a=40x40 b=40x40 ta=0 tb=0")
        let (_, steps) = Shrinker.shrink(p, maxSteps: 3) { _ in true }
        #expect(steps == 3)
        struct Boom: Error {}
        #expect(throws: Boom.self) { _ = try Shrinker.shrink(p) { _ in throw Boom() } }
    }

    @Test("The measure is the documented sum of fields")
    func measure() throws {
        // 2 + 3 + 8 + 1 (n, ic, oc, g) + 5+5 (in) + 3+3 (k) + 1+1 (s) + 1+1 (d) + 2 (rank)
        // + 1 (bias) + 2·(1+1+1+1) + 1 (explicit padding) = 46.
        #expect(
            Shrinker.measure(try Problem.parse("conv2d n=2 ic=3 oc=8 g=1 in=5x5 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=1"))
                == 46)
        // 2+4+3 + 4+5 + ranks 3+2 + ta 1 = 24.
        #expect(Shrinker.measure(try Problem.parse("matmul a=2x4x3 b=4x5 ta=1 tb=0")) == 24)
    }
}

/// Shrinking keeps the kind of failure it started from: a kernel whose numbers are wrong on
/// every problem of 3 or more elements, and which throws on smaller ones, shrinks to the
/// smallest wrong-numbers problem, not to a 1-element problem that fails by throwing.
@Suite struct ShrinkingKeepsTheFailureKindTests {
    struct WrongThenThrowing: KernelImplementation {
        let name = "wrong-then-throwing"
        func run(
            _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
            output: UnsafeMutableBufferPointer<Float>, threads: Int
        ) throws(ImplementationError) {
            guard output.count >= 3 else {
                throw .failed(implementation: name, problem: problem.description, reason: "too small")
            }
            let x = inputs["x"]!.storage
            for i in output.indices { output[i] = max(x[i], 0) + 1 }
        }
    }

    @Test func mismatchShrinksToAMismatch() throws {
        let checker = CaseChecker(implementation: WrongThenThrowing(), determinism: false)
        let sweep = Sweep(families: [.activation], cases: 1, seed: 1, mode: .exact, checker: checker)
        let problem = try Problem.parse("relu shape=4x6")
        let outcome = checker.check(problem, .fwd, seed: 5, mode: .exact)
        #expect(outcome.failureKinds == ["mismatch"])
        let failure = sweep.shrinkFailure(outcome, problem, .fwd, 5)
        let shrunk = try Problem.parse(failure.shrunk.problem)
        #expect(failure.shrunk.failureKinds == ["mismatch"], "\(failure.shrunk.summary)")
        #expect(shrunk.description == "relu shape=3", "\(shrunk)")
    }
}
