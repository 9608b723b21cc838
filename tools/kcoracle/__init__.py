"""The fixture oracle's implementation; `tools/oracle.py` is its command-line entry point.

    errors.py     OracleError (exit status 2) and the validation helper `require`
    fields.py     problem-string tokens: Fields, Padding, dims and number formatting
    precision.py  dt= / acc= / odt= and reading inputs stored as float16, bf16 or fp8
    layers.py     the autograd helper `gradients` and WeightedLayer (x, w, b -> y)
    conv.py       conv{1,2,3}d and convt{1,2,3}d
    padproj.py    the ResNet shortcut projections padproj_a and padproj_b
    dense.py      matmul and linear
    pointwise.py  activations and losses
    problems.py   the op table and parse_problem
    hdf5io.py     `fill`: reading a case group's inputs, writing its expected outputs
    manifest.py   `manifest`: checking fixtures/manifest.txt, case counts and data size

torch, numpy and h5py are imported inside the functions that need them, so that parsing
problem strings and manifests works without them.
"""
