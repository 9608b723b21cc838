// KernelCheckHDF5: see README.md for what this module holds.
