import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

@Suite struct ReferenceRunTests {
    let matmul = Problem.matmul(MatmulProblem(m: 2, n: 2, k: 3))

    @Test func computesFromNamedInputs() throws {
        let y = try Reference.run(
            matmul, .fwd,
            inputs: [
                "a": try tensor([2, 3], MatmulHandCase.a), "b": try tensor([3, 2], MatmulHandCase.b),
                "y": Tensor(zeros: [2, 2]),  // extra roles (a fixture's expected output) are ignored
            ])
        #expect(y.storage == MatmulHandCase.c)
    }

    @Test func missingRoleIsATypedError() throws {
        #expect(
            throws: ReferenceError.missingInput(problem: "matmul a=2x3 b=3x2 ta=0 tb=0", direction: .fwd, role: "a")
        ) {
            try Reference.run(
                matmul, .fwd,
                inputs: [
                    "x": try tensor([2, 3], MatmulHandCase.a),
                    "b": try tensor([3, 2], MatmulHandCase.b),
                ])
        }
    }

    @Test func wrongShapeIsATypedError() throws {
        let error = #expect(throws: ReferenceError.self) {
            try Reference.run(
                matmul, .bwdWeights,
                inputs: [
                    "a": try tensor([3, 2], MatmulHandCase.a),
                    "dy": Tensor(zeros: [2, 2]),
                ])
        }
        #expect(
            error
                == .shapeMismatch(problem: "matmul a=2x3 b=3x2 ta=0 tb=0", role: "a", expected: [2, 3], found: [3, 2]))
        #expect(error?.description == "matmul a=2x3 b=3x2 ta=0 tb=0: input 'a' has shape 3x2, expected 2x3")
    }

    /// A linear layer without bias has no bwd_bias; an activation has no bwd_weights.
    @Test func unsupportedDirectionIsATypedError() throws {
        let noBias = try Problem.parse("linear x=4x5 out=3 bias=0")
        let error = #expect(throws: ReferenceError.self) {
            try Reference.run(noBias, .bwdBias, inputs: ["dy": Tensor(zeros: [4, 3])])
        }
        #expect(
            error
                == .unsupportedDirection(
                    problem: "linear x=4x5 out=3 bias=0", direction: .bwdBias,
                    supported: [.fwd, .bwdData, .bwdWeights]))
        #expect(error?.description.contains("linear x=4x5 out=3 bias=0") == true)
        #expect(throws: ReferenceError.self) {
            try Reference.run(try Problem.parse("relu shape=2x3"), .bwdWeights, inputs: [:])
        }
    }

    @Test func scalarRoleShapeIsChecked() throws {
        let p = try Problem.parse("mse shape=2x2")
        #expect(throws: ReferenceError.shapeMismatch(problem: "mse shape=2x2", role: "dy", expected: [], found: [1])) {
            try Reference.run(
                p, .bwdData,
                inputs: [
                    "x": Tensor(zeros: [2, 2]), "target": Tensor(zeros: [2, 2]),
                    "dy": Tensor(zeros: [1]),
                ])
        }
    }

    static let problems = [
        "padproj_a n=2 c=3 in=5x4 s=2x2 before=1 after=2",
        "padproj_b n=2 ic=3 oc=4 in=5x4 s=2x2 eps=1e-05",
        "matmul a=2x1x3x4 b=5x4x6 ta=0 tb=0",
        "matmul a=4x3 b=5x4 ta=1 tb=1",
        "linear x=2x3x4 out=5 bias=1",
        "leaky_relu shape=3x4 slope=0.2",
        "tanh shape=3x4",
        "sumsq shape=3x4",
        "conv2d n=2 ic=4 oc=6 g=2 in=5x4 k=3x2 s=2x1 d=1x2 p=1x0:0x1 bias=1",
        "convt1d n=2 ic=3 oc=6 g=3 in=4 k=3 s=2 d=1 p=1:0 op=1 bias=1",
    ]

    /// Every direction of every family, through the dispatcher with distinct seeded
    /// tensors per role, equals the direct call: catches a role wired to the wrong argument.
    @Test(arguments: problems) func dispatchMatchesDirectCalls(_ text: String) throws {
        let problem = try Problem.parse(text)
        for direction in problem.directions {
            var inputs: [String: Tensor<Double>] = [:]
            for spec in problem.descriptor.inputs(for: direction) {
                let fill: Fill =
                    ["var", "gamma"].contains(spec.role) ? .uniform(low: 0.5, high: 2) : .uniform(low: -1, high: 1)
                inputs[spec.role] = randomTensor(spec.shape, seed: 99, role: spec.role, fill: fill)
            }
            let viaRun = try Reference.run(problem, direction, inputs: inputs)
            #expect(viaRun.shape == problem.descriptor.output(for: direction).shape, "\(text) \(direction)")
            let direct = try #require(directCall(problem, direction, inputs), "\(text) \(direction)")
            #expect(viaRun == direct, "\(text) \(direction)")
        }
    }

    /// The expected call per direction, spelled out independently of the dispatcher's switch.
    func directCall(_ problem: Problem, _ direction: Direction, _ t: [String: Tensor<Double>]) -> Tensor<Double>? {
        switch (problem, direction) {
        case (.conv(let p), .fwd): return Reference.convForward(p, x: t["x"]!, w: t["w"]!, b: t["b"])
        case (.conv(let p), .bwdData): return Reference.convBackwardData(p, dy: t["dy"]!, w: t["w"]!)
        case (.conv(let p), .bwdWeights): return Reference.convBackwardWeights(p, x: t["x"]!, dy: t["dy"]!)
        case (.conv(let p), .bwdBias): return Reference.convBackwardBias(p, dy: t["dy"]!)
        case (.convTranspose(let p), .fwd): return Reference.convTransposeForward(p, x: t["x"]!, w: t["w"]!, b: t["b"])
        case (.convTranspose(let p), .bwdData): return Reference.convTransposeBackwardData(p, dy: t["dy"]!, w: t["w"]!)
        case (.convTranspose(let p), .bwdWeights):
            return Reference.convTransposeBackwardWeights(p, x: t["x"]!, dy: t["dy"]!)
        case (.convTranspose(let p), .bwdBias): return Reference.convTransposeBackwardBias(p, dy: t["dy"]!)
        case (.padProjectionA(let p), .fwd): return Reference.padProjectionAForward(p, x: t["x"]!)
        case (.padProjectionA(let p), .bwdData): return Reference.padProjectionABackwardData(p, dy: t["dy"]!)
        case (.padProjectionB(let p), .fwd):
            return Reference.padProjectionBForward(
                p, x: t["x"]!, w: t["w"]!, gamma: t["gamma"]!, beta: t["beta"]!,
                mean: t["mean"]!, variance: t["var"]!)
        case (.padProjectionB(let p), .bwdData):
            return Reference.padProjectionBBackwardData(
                p, dy: t["dy"]!, w: t["w"]!, gamma: t["gamma"]!, variance: t["var"]!)
        case (.padProjectionB(let p), .bwdWeights):
            return Reference.padProjectionBBackwardWeights(
                p, x: t["x"]!, dy: t["dy"]!, gamma: t["gamma"]!, variance: t["var"]!)
        case (.padProjectionB(let p), .bwdGamma):
            return Reference.padProjectionBBackwardGamma(
                p, x: t["x"]!, w: t["w"]!, dy: t["dy"]!, mean: t["mean"]!, variance: t["var"]!)
        case (.padProjectionB(let p), .bwdBeta): return Reference.padProjectionBBackwardBeta(p, dy: t["dy"]!)
        case (.matmul(let p), .fwd): return Reference.matmulForward(p, a: t["a"]!, b: t["b"]!)
        case (.matmul(let p), .bwdData): return Reference.matmulBackwardA(p, dy: t["dy"]!, b: t["b"]!)
        case (.matmul(let p), .bwdWeights): return Reference.matmulBackwardB(p, a: t["a"]!, dy: t["dy"]!)
        case (.linear(let p), .fwd): return Reference.linearForward(p, x: t["x"]!, w: t["w"]!, b: t["b"])
        case (.linear(let p), .bwdData): return Reference.linearBackwardData(p, dy: t["dy"]!, w: t["w"]!)
        case (.linear(let p), .bwdWeights): return Reference.linearBackwardWeights(p, x: t["x"]!, dy: t["dy"]!)
        case (.linear(let p), .bwdBias): return Reference.linearBackwardBias(p, dy: t["dy"]!)
        case (.activation(let p), .fwd): return Reference.activationForward(p, x: t["x"]!)
        case (.activation(let p), .bwdData): return Reference.activationBackward(p, x: t["x"]!, dy: t["dy"]!)
        case (.loss(let p), .fwd): return Reference.lossForward(p, x: t["x"]!, target: t["target"]!)
        case (.loss(let p), .bwdData): return Reference.lossBackward(p, x: t["x"]!, target: t["target"]!, dy: t["dy"]!)
        default: return nil
        }
    }
}
