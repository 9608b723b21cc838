import KernelCheckCore
import KernelCheckProblems

/// The ResNet shortcut projections, option A (subsample + zero-pad channels) and option B
/// (strided 1×1 convolution + inference BatchNorm). Formulas: `PadProjectionAProblem` and
/// `PadProjectionBProblem`.
extension Reference {
    // MARK: Option A

    /// `y[n, c + before, o…] = x[n, c, o·s]`; the `before` leading and `after` trailing
    /// channels of `y` are zero.
    public static func padProjectionAForward<T>(_ p: PadProjectionAProblem, x: Tensor<T>) -> Tensor<Double> {
        requireShape(x, p.xShape, role: "x", of: p)
        let picked = subsampledOffsets(inputSize: p.inputSize, stride: p.stride, outputSize: p.outputSize)
        let inPlane = p.inputSize.reduce(1, *), outPlane = picked.count
        var y = Tensor<Double>(zeros: p.yShape)
        for n in 0..<p.batch {
            for c in 0..<p.channels {
                let src = (n * p.channels + c) * inPlane
                let dst = (n * p.outChannels + c + p.before) * outPlane
                for o in 0..<outPlane { y.storage[dst + o] = Double(x.storage[src + picked[o]]) }
            }
        }
        return y
    }

    /// The adjoint of option A: `dx[n, c, o·s] = dy[n, c + before, o…]`, zero at positions
    /// the stride skipped; gradients on the padded channels are dropped (they came from
    /// constants).
    public static func padProjectionABackwardData<T>(_ p: PadProjectionAProblem, dy: Tensor<T>) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        let picked = subsampledOffsets(inputSize: p.inputSize, stride: p.stride, outputSize: p.outputSize)
        let inPlane = p.inputSize.reduce(1, *), outPlane = picked.count
        var dx = Tensor<Double>(zeros: p.xShape)
        for n in 0..<p.batch {
            for c in 0..<p.channels {
                let dst = (n * p.channels + c) * inPlane
                let src = (n * p.outChannels + c + p.before) * outPlane
                for o in 0..<outPlane { dx.storage[dst + picked[o]] = Double(dy.storage[src + o]) }
            }
        }
        return dx
    }

    // MARK: Option B

    /// `z[n, co, o…] = Σ_ci w[co, ci] · x[n, ci, o·s]`,
    /// `y = γ[co] · (z − μ[co]) / √(σ²[co] + ε) + β[co]`.
    public static func padProjectionBForward<T>(
        _ p: PadProjectionBProblem, x: Tensor<T>, w: Tensor<T>,
        gamma: Tensor<T>, beta: Tensor<T>, mean: Tensor<T>, variance: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(beta, p.channelShape, role: "beta", of: p)
        let z = projectionConvolution(p, x: x, w: w)
        let normalized = normalizedProjection(p, z: z, mean: mean, variance: variance)
        requireShape(gamma, p.channelShape, role: "gamma", of: p)
        var y = normalized
        let plane = p.outputSize.reduce(1, *)
        for n in 0..<p.batch {
            for co in 0..<p.outChannels {
                let base = (n * p.outChannels + co) * plane
                for o in 0..<plane {
                    y.storage[base + o] =
                        Double(gamma.storage[co]) * normalized.storage[base + o] + Double(beta.storage[co])
                }
            }
        }
        return y
    }

    /// `dx[n, ci, o·s] = Σ_co w[co, ci] · a[co] · dy[n, co, o…]` with `a = γ/√(σ² + ε)`;
    /// zero at positions the stride skipped.
    public static func padProjectionBBackwardData<T>(
        _ p: PadProjectionBProblem, dy: Tensor<T>, w: Tensor<T>, gamma: Tensor<T>, variance: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        requireShape(w, p.wShape, role: "w", of: p)
        let a = batchNormScale(p, gamma: gamma, variance: variance)
        let picked = subsampledOffsets(inputSize: p.inputSize, stride: p.stride, outputSize: p.outputSize)
        let inPlane = p.inputSize.reduce(1, *), outPlane = picked.count
        var dx = Tensor<Double>(zeros: p.xShape)
        for n in 0..<p.batch {
            for ci in 0..<p.inChannels {
                for o in 0..<outPlane {
                    var sum = 0.0
                    for co in 0..<p.outChannels {
                        let dz = a[co] * Double(dy.storage[(n * p.outChannels + co) * outPlane + o])
                        sum += Double(w.storage[co * p.inChannels + ci]) * dz
                    }
                    dx.storage[(n * p.inChannels + ci) * inPlane + picked[o]] = sum
                }
            }
        }
        return dx
    }

    /// `dw[co, ci] = Σ_{n, o} a[co] · dy[n, co, o…] · x[n, ci, o·s]` with `a = γ/√(σ² + ε)`.
    public static func padProjectionBBackwardWeights<T>(
        _ p: PadProjectionBProblem, x: Tensor<T>, dy: Tensor<T>, gamma: Tensor<T>, variance: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(x, p.xShape, role: "x", of: p)
        requireShape(dy, p.yShape, role: "dy", of: p)
        let a = batchNormScale(p, gamma: gamma, variance: variance)
        let picked = subsampledOffsets(inputSize: p.inputSize, stride: p.stride, outputSize: p.outputSize)
        let inPlane = p.inputSize.reduce(1, *), outPlane = picked.count
        var dw = Tensor<Double>(zeros: p.wShape)
        for co in 0..<p.outChannels {
            for ci in 0..<p.inChannels {
                var sum = 0.0
                for n in 0..<p.batch {
                    for o in 0..<outPlane {
                        let dz = a[co] * Double(dy.storage[(n * p.outChannels + co) * outPlane + o])
                        sum += dz * Double(x.storage[(n * p.inChannels + ci) * inPlane + picked[o]])
                    }
                }
                dw.storage[co * p.inChannels + ci] = sum
            }
        }
        return dw
    }

    /// `dγ[co] = Σ_{n, o} dy[n, co, o…] · (z − μ[co]) / √(σ²[co] + ε)`, `z` the convolution.
    public static func padProjectionBBackwardGamma<T>(
        _ p: PadProjectionBProblem, x: Tensor<T>, w: Tensor<T>, dy: Tensor<T>, mean: Tensor<T>, variance: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        let z = projectionConvolution(p, x: x, w: w)
        let normalized = normalizedProjection(p, z: z, mean: mean, variance: variance)
        let plane = p.outputSize.reduce(1, *)
        var dgamma = Tensor<Double>(zeros: p.channelShape)
        for co in 0..<p.outChannels {
            var sum = 0.0
            for n in 0..<p.batch {
                let base = (n * p.outChannels + co) * plane
                for o in 0..<plane { sum += Double(dy.storage[base + o]) * normalized.storage[base + o] }
            }
            dgamma.storage[co] = sum
        }
        return dgamma
    }

    /// `dβ[co] = Σ_{n, o} dy[n, co, o…]`.
    public static func padProjectionBBackwardBeta<T>(_ p: PadProjectionBProblem, dy: Tensor<T>) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        let plane = p.outputSize.reduce(1, *)
        var dbeta = Tensor<Double>(zeros: p.channelShape)
        for co in 0..<p.outChannels {
            var sum = 0.0
            for n in 0..<p.batch {
                let base = (n * p.outChannels + co) * plane
                for o in 0..<plane { sum += Double(dy.storage[base + o]) }
            }
            dbeta.storage[co] = sum
        }
        return dbeta
    }

    // MARK: Option B pieces

    /// The strided 1×1 convolution `z[n, co, o…] = Σ_ci w[co, ci] · x[n, ci, o·s]` (no bias).
    /// Its own loop, independent of the general convolution reference.
    private static func projectionConvolution<T>(
        _ p: PadProjectionBProblem, x: Tensor<T>, w: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(x, p.xShape, role: "x", of: p)
        requireShape(w, p.wShape, role: "w", of: p)
        let picked = subsampledOffsets(inputSize: p.inputSize, stride: p.stride, outputSize: p.outputSize)
        let inPlane = p.inputSize.reduce(1, *), outPlane = picked.count
        var z = Tensor<Double>(zeros: p.yShape)
        for n in 0..<p.batch {
            for co in 0..<p.outChannels {
                for o in 0..<outPlane {
                    var sum = 0.0
                    for ci in 0..<p.inChannels {
                        sum +=
                            Double(w.storage[co * p.inChannels + ci])
                            * Double(x.storage[(n * p.inChannels + ci) * inPlane + picked[o]])
                    }
                    z.storage[(n * p.outChannels + co) * outPlane + o] = sum
                }
            }
        }
        return z
    }

    /// `(z − μ[co]) / √(σ²[co] + ε)`, the BatchNorm input before scale and shift.
    private static func normalizedProjection<T>(
        _ p: PadProjectionBProblem, z: Tensor<Double>, mean: Tensor<T>, variance: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(mean, p.channelShape, role: "mean", of: p)
        requireShape(variance, p.channelShape, role: "var", of: p)
        let plane = p.outputSize.reduce(1, *)
        var out = z
        for n in 0..<p.batch {
            for co in 0..<p.outChannels {
                let mu = Double(mean.storage[co])
                let sd = (Double(variance.storage[co]) + p.epsilon).squareRoot()
                let base = (n * p.outChannels + co) * plane
                for o in 0..<plane { out.storage[base + o] = (z.storage[base + o] - mu) / sd }
            }
        }
        return out
    }

    /// `a[co] = γ[co] / √(σ²[co] + ε)`: inference BatchNorm is `y = a·z + const`, so `a`
    /// is the factor every gradient through it picks up.
    private static func batchNormScale<T>(_ p: PadProjectionBProblem, gamma: Tensor<T>, variance: Tensor<T>) -> [Double]
    {
        requireShape(gamma, p.channelShape, role: "gamma", of: p)
        requireShape(variance, p.channelShape, role: "var", of: p)
        return (0..<p.outChannels).map {
            Double(gamma.storage[$0]) / (Double(variance.storage[$0]) + p.epsilon).squareRoot()
        }
    }

    /// Offsets, within one `inputSize` plane, of the points `x[o·s]` for every output
    /// position `o` in row-major order (what `x[..., ::s, ::s]` picks).
    private static func subsampledOffsets(inputSize: [Int], stride: [Int], outputSize: [Int]) -> [Int] {
        let inStrides = Shape.strides(inputSize)
        var offsets = [0]
        // Build row-major order one dimension at a time: outer dims vary slowest.
        for d in 0..<inputSize.count {
            offsets = offsets.flatMap { base in (0..<outputSize[d]).map { o in base + o * stride[d] * inStrides[d] } }
        }
        return offsets
    }
}
