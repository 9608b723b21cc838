"""What the op classes share: autograd of a forward function, and WeightedLayer.

Role names of the expected outputs, per direction, and per op family which directions exist.
Each problem class (conv.py, padproj.py, dense.py, pointwise.py) gives: `family`,
`canonical()`, `directions`, `input_shapes()` (role -> shape, union over all directions),
`output_shapes()` (direction -> (role, shape)) and `compute(inputs)` (role -> float64
tensor; returns role -> float64 tensor).
"""

from __future__ import annotations


def gradients(t, roles, forward):
    """y = forward(*inputs) with the input tensors `roles` as autograd leaves. Returns "y" and,
    for the upstream gradient t["dy"], the gradient "d<role>" of each of them."""
    import torch

    leaves = [t[r].requires_grad_() for r in roles]
    y = forward(*leaves)
    grads = torch.autograd.grad(y, leaves, grad_outputs=t["dy"])
    return {"y": y.detach(), **{"d" + r: g for r, g in zip(roles, grads)}}


class WeightedLayer:
    """Ops with data x, weights w, an optional bias b and output y (conv, transposed conv,
    linear): forward x, w, (b) -> y; bwd_data -> dx; bwd_weights -> dw; bwd_bias -> db.
    Subclasses give `bias`, `shapes()` -> (x, w, y) and `bias_shape()`."""

    def directions(self):
        return ["fwd", "bwd_data", "bwd_weights"] + (["bwd_bias"] if self.bias else [])

    def input_shapes(self):
        x, w, y = self.shapes()
        shapes = {"x": x, "w": w, "dy": y}
        if self.bias:
            shapes["b"] = self.bias_shape()
        return shapes

    def output_shapes(self):
        x, w, y = self.shapes()
        out = {"fwd": ("y", y), "bwd_data": ("dx", x), "bwd_weights": ("dw", w)}
        if self.bias:
            out["bwd_bias"] = ("db", self.bias_shape())
        return out

    def layer_gradients(self, t, forward):
        """gradients() of forward(x, w, b) (b None without a bias): y, dx, dw (and db)."""
        return gradients(t, ["x", "w"] + (["b"] if self.bias else []), forward)
