import ArgumentParser
import KernelCheckCore
import KernelCheckProblems
import KernelCheckVerification

/// `kernelcheck problem '<string>'`: validates a problem string and prints its canonical
/// form, tensor shapes per direction, FLOPs, accumulation lengths, and the code path the tiled
/// implementation takes for each direction (with the reason it was chosen).
struct ProblemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "problem",
        abstract: "Validate a problem string and print its canonical form, shapes, FLOPs and tiled paths.",
        discussion: "Known ops: \(Problem.opNames.joined(separator: ", ")).")

    @Argument(help: "The problem string, quoted, e.g. 'conv2d n=1 ic=3 oc=8 in=5x5 k=3x3 p=same'.")
    var problem: String

    func run() throws {
        let p = try parseProblem(problem)
        let d = p.descriptor
        print(p.description)
        if !d.precision.isFloat32 {
            let pr = d.precision
            print(
                "  precision: \(pr) (accumulation u = 2^-\(pr.accumulation.significandBits), output rounding"
                    + (pr.output == .f32 ? " to f32" : " u = 2^-\(pr.output.significandBits)") + ")")
        }
        for direction in p.directions {
            let inputs = d.inputs(for: direction).map(\.description).joined(separator: " ")
            print(
                "  \(direction.rawValue): \(inputs) -> \(d.output(for: direction))  flops=\(Int(d.flops(for: direction))) K=\(d.accumulationLength(for: direction))"
            )
            let real = d.realProductFraction(for: direction)
            if real < 1 {
                print(
                    "    real products: \(String(format: "%.1f", 100 * real)) % of flops (the rest multiply zero padding)"
                )
            }
            let path = TiledImplementation().path(p, direction)
            print("    tiled path: \(path.name) (\(path.reason))")
            if let refusal = CaseInputs.exactModeRefusal(p, direction) { print("    exact mode: \(refusal)") }
        }
    }
}

/// Parses a problem string; a `ProblemError` becomes `BadInput` (one line, exit 2).
func parseProblem(_ text: String) throws -> Problem {
    do {
        return try Problem.parse(text)
    } catch {
        throw BadInput(error.description)
    }
}
