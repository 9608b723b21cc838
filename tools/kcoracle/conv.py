"""conv{1,2,3}d and convt{1,2,3}d: shapes, validation, padding modes and the torch forward."""

from __future__ import annotations

from .errors import require
from .fields import Fields, Padding, format_dims, split_total
from .layers import WeightedLayer
from .precision import parse_precision


class ConvBase(WeightedLayer):
    transposed = False

    def __init__(self, f: Fields):
        op = f.op
        self.op = op
        self.rank = int(op[-2])
        r = self.rank
        self.n = f.int("n")
        self.ic = f.int("ic")
        self.oc = f.int("oc")
        self.g = f.int("g", 1)
        self.inp = f.dims("in", r)
        self.k = f.dims("k", r)
        self.s = f.dims("s", r, [1] * r)
        self.d = f.dims("d", r, [1] * r)
        self.pad = Padding.parse(f.raw("p", "valid"), r)
        if self.transposed:
            self.op_pad = f.dims("op", r, [0] * r)
        self.bias = f.bool("bias", False)
        self.precision = parse_precision(f)
        f.finish()
        self.validate()

    def validate(self):
        op = self.op
        require(self.n >= 1, op, "n", f"batch must be >= 1, got {self.n}")
        require(self.ic >= 1 and self.oc >= 1, op, "ic/oc", "channels must be >= 1")
        require(self.g >= 1, op, "g", f"groups must be >= 1, got {self.g}")
        require(self.ic % self.g == 0, op, "g", f"groups {self.g} do not divide ic={self.ic}")
        require(self.oc % self.g == 0, op, "g", f"groups {self.g} do not divide oc={self.oc}")
        require(all(v >= 1 for v in self.inp), op, "in", "spatial sizes must be >= 1")
        require(all(v >= 1 for v in self.k), op, "k", "kernel sizes must be >= 1")
        require(all(v >= 1 for v in self.s), op, "s", "strides must be >= 1")
        require(all(v >= 1 for v in self.d), op, "d", "dilations must be >= 1")
        if self.pad.mode == "explicit":
            require(all(v >= 0 for v in self.pad.begin + self.pad.end), op, "p", "padding must be >= 0")

    def bias_shape(self):
        return [self.oc]

    def padding(self):
        """(begin, end) per dimension; same / same_lower split `same_total(i)`."""
        r = self.rank
        if self.pad.mode == "explicit":
            return self.pad.begin, self.pad.end
        if self.pad.mode == "valid":
            return [0] * r, [0] * r
        b, e = [], []
        for i in range(r):
            pb, pe = split_total(self.same_total(i), self.pad.mode == "same_lower")
            b.append(pb)
            e.append(pe)
        return b, e

    def canonical(self):
        op_pad = f" op={format_dims(self.op_pad)}" if self.transposed else ""
        return (f"{self.op} n={self.n} ic={self.ic} oc={self.oc} g={self.g} in={format_dims(self.inp)} "
                f"k={format_dims(self.k)} s={format_dims(self.s)} d={format_dims(self.d)} p={self.pad}{op_pad} "
                f"bias={int(self.bias)}{self.precision.fields()}")

    def shapes(self):
        return [self.n, self.ic] + self.inp, self.weight_shape(), [self.n, self.oc] + self.out_size()


class Conv(ConvBase):
    """conv{1,2,3}d: y = b + Σ w·x over the padded input; same = SAME_UPPER."""

    family = "conv"

    def same_total(self, i):
        n, s, d, k = self.inp[i], self.s[i], self.d[i], self.k[i]
        out = -(-n // s)  # ceil(in / s)
        return max((out - 1) * s + d * (k - 1) + 1 - n, 0)

    def validate(self):
        super().validate()
        pb, pe = self.padding()
        for i in range(self.rank):
            eff = self.d[i] * (self.k[i] - 1) + 1
            padded = self.inp[i] + pb[i] + pe[i]
            require(eff <= padded, self.op, "k",
                    f"dilated kernel {eff} is larger than the padded input {padded} in dimension {i}")

    def out_size(self):
        pb, pe = self.padding()
        return [(self.inp[i] + pb[i] + pe[i] - self.d[i] * (self.k[i] - 1) - 1) // self.s[i] + 1
                for i in range(self.rank)]

    def weight_shape(self):
        return [self.oc, self.ic // self.g] + self.k

    def compute(self, t):
        import torch.nn.functional as F

        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[self.rank]
        pb, pe = self.padding()
        # F.pad lists (begin, end) pairs starting from the LAST dimension; asymmetric padding
        # is applied to the input so the convolution itself runs unpadded.
        pads = []
        for i in reversed(range(self.rank)):
            pads += [pb[i], pe[i]]
        return self.layer_gradients(t, lambda x, w, b=None: conv(F.pad(x, pads), w, b, stride=self.s, padding=0,
                                                                  dilation=self.d, groups=self.g))


class ConvTranspose(ConvBase):
    """convt{1,2,3}d: the adjoint of conv; the full output is cropped by (begin, end)."""

    family = "conv_transpose"
    transposed = True

    def same_total(self, i):
        # Keras / ONNX SAME_UPPER for transposed conv: output in·s, total crop
        # d·(k−1) + 1 + output_padding − s.
        return self.d[i] * (self.k[i] - 1) + 1 + self.op_pad[i] - self.s[i]

    def full_size(self):
        """Uncropped output size, output_padding included (added at the end)."""
        return [(self.inp[i] - 1) * self.s[i] + self.d[i] * (self.k[i] - 1) + self.op_pad[i] + 1
                for i in range(self.rank)]

    def validate(self):
        super().validate()
        op = self.op
        for i in range(self.rank):
            lim = max(self.s[i], self.d[i])
            require(0 <= self.op_pad[i] < lim, op, "op",
                    f"output_padding {self.op_pad[i]} must be in [0, max(s, d)) = [0, {lim})")
        if self.pad.mode in ("same", "same_lower"):
            for i in range(self.rank):
                total = self.d[i] * (self.k[i] - 1) + 1 + self.op_pad[i] - self.s[i]
                require(total >= 0, op, "p", f"same needs d·(k−1)+1+op >= s in dimension {i}")
        pb, pe = self.padding()
        full = self.full_size()
        for i in range(self.rank):
            require(pb[i] + pe[i] < full[i], op, "p",
                    f"cropping {pb[i] + pe[i]} removes the whole output of size {full[i]} in dimension {i}")

    def out_size(self):
        pb, pe = self.padding()
        return [f - pb[i] - pe[i] for i, f in enumerate(self.full_size())]

    def weight_shape(self):
        return [self.ic, self.oc // self.g] + self.k

    def compute(self, t):
        import torch.nn.functional as F

        convt = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[self.rank]
        pb, pe = self.padding()

        def forward(x, w, b=None):
            # Unpadded transposed conv with output_padding gives the full output (the extra
            # output_padding positions at the end receive only the bias); then crop (begin, end).
            full = convt(x, w, b, stride=self.s, padding=0, output_padding=self.op_pad,
                         groups=self.g, dilation=self.d)
            index = [slice(None), slice(None)] + [slice(pb[i], full.shape[2 + i] - pe[i]) for i in range(self.rank)]
            return full[tuple(index)]

        return self.layer_gradients(t, forward)
