import KernelCheckCore
import KernelCheckProblems

/// The reference implementations: naive loops a reader can check against the formula in each
/// descriptor's doc comment, accumulating in Float64 whatever the input scalar type.
///
/// Every op lives in its own file (`Convolution.swift`, `TransposedConvolution.swift`, …) with
/// all its directions. Functions take tensors whose shapes match the descriptor (a caller
/// bug otherwise: they trap); `Reference.run` is the checked entry point used by the engine
/// and the fixtures, which validates roles and shapes and throws `ReferenceError`.
public enum Reference {}
