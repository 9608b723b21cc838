import KernelCheckCore

extension HDF5File {
    /// Writes `tensor` as a dataset of its shape and scalar type (`Tensor<Float>` → float32,
    /// `Tensor<Double>` → float64); see `write(_:shape:to:)`.
    public func write<S: BinaryFloatingPoint & HDF5Scalar>(_ tensor: Tensor<S>, to path: String) throws(HDF5Error) {
        try write(tensor.storage, shape: tensor.shape, to: path)
    }

    /// Reads the dataset at `path` into a tensor of the stored shape, converting as
    /// `read(_:as:expectedShape:)` does; `expectedShape`, when given, must match.
    public func readTensor<S: BinaryFloatingPoint & HDF5Scalar>(
        _ path: String, as type: S.Type,
        expectedShape: [Int]? = nil
    ) throws(HDF5Error) -> Tensor<S> {
        let array = try read(path, as: type, expectedShape: expectedShape)
        do {
            return try Tensor(shape: array.shape, storage: array.values)
        } catch {
            // Unreachable: HDF5 reports non-negative extents whose product is the value count.
            throw .readFailed(file: self.path, object: HDF5Library.normalize(path), reason: "\(error)")
        }
    }
}
