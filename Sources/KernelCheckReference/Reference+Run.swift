import KernelCheckCore
import KernelCheckProblems

extension Reference {
    /// The checked entry point: computes `direction` of `problem` from tensors named by role.
    ///
    /// Checks, before any loop runs, that the problem offers `direction` and that every role
    /// `problem.descriptor.inputs(for: direction)` lists is present with exactly the shape
    /// the problem implies; extra entries (a fixture group also holds its expected outputs)
    /// are ignored. The result has the shape of `problem.descriptor.output(for: direction)`.
    public static func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Double>]
    ) throws(ReferenceError) -> Tensor<Double> {
        guard problem.directions.contains(direction) else {
            throw .unsupportedDirection(
                problem: problem.description, direction: direction, supported: problem.directions)
        }
        try problem.checkInputs(for: direction, as: ReferenceError.self) { inputs[$0]?.shape }
        // Every role read below was checked above.
        func t(_ role: String) -> Tensor<Double> { inputs[role]! }

        switch problem {
        case .conv(let p):
            switch direction {
            case .fwd: return convForward(p, x: t("x"), w: t("w"), b: p.hasBias ? t("b") : nil)
            case .bwdData: return convBackwardData(p, dy: t("dy"), w: t("w"))
            case .bwdWeights: return convBackwardWeights(p, x: t("x"), dy: t("dy"))
            default: return convBackwardBias(p, dy: t("dy"))
            }

        case .convTranspose(let p):
            switch direction {
            case .fwd: return convTransposeForward(p, x: t("x"), w: t("w"), b: p.hasBias ? t("b") : nil)
            case .bwdData: return convTransposeBackwardData(p, dy: t("dy"), w: t("w"))
            case .bwdWeights: return convTransposeBackwardWeights(p, x: t("x"), dy: t("dy"))
            default: return convTransposeBackwardBias(p, dy: t("dy"))
            }

        case .padProjectionA(let p):
            switch direction {
            case .fwd: return padProjectionAForward(p, x: t("x"))
            default: return padProjectionABackwardData(p, dy: t("dy"))
            }

        case .padProjectionB(let p):
            switch direction {
            case .fwd:
                return padProjectionBForward(
                    p, x: t("x"), w: t("w"), gamma: t("gamma"), beta: t("beta"),
                    mean: t("mean"), variance: t("var"))
            case .bwdData:
                return padProjectionBBackwardData(p, dy: t("dy"), w: t("w"), gamma: t("gamma"), variance: t("var"))
            case .bwdWeights:
                return padProjectionBBackwardWeights(p, x: t("x"), dy: t("dy"), gamma: t("gamma"), variance: t("var"))
            case .bwdGamma:
                return padProjectionBBackwardGamma(
                    p, x: t("x"), w: t("w"), dy: t("dy"), mean: t("mean"), variance: t("var"))
            default: return padProjectionBBackwardBeta(p, dy: t("dy"))
            }

        case .matmul(let p):
            switch direction {
            case .fwd: return matmulForward(p, a: t("a"), b: t("b"))
            case .bwdData: return matmulBackwardA(p, dy: t("dy"), b: t("b"))
            default: return matmulBackwardB(p, a: t("a"), dy: t("dy"))
            }

        case .linear(let p):
            switch direction {
            case .fwd: return linearForward(p, x: t("x"), w: t("w"), b: p.hasBias ? t("b") : nil)
            case .bwdData: return linearBackwardData(p, dy: t("dy"), w: t("w"))
            case .bwdWeights: return linearBackwardWeights(p, x: t("x"), dy: t("dy"))
            default: return linearBackwardBias(p, dy: t("dy"))
            }

        case .activation(let p):
            switch direction {
            case .fwd: return activationForward(p, x: t("x"))
            default: return activationBackward(p, x: t("x"), dy: t("dy"))
            }

        case .loss(let p):
            switch direction {
            case .fwd: return lossForward(p, x: t("x"), target: t("target"))
            default: return lossBackward(p, x: t("x"), target: t("target"), dy: t("dy"))
            }
        }
    }
}
