"""The gated recurrent unit written from its equations (Cho et al. 2014), in two variants.

With s = [h_{t-1}, x_t] and biases folded into the products:

    reset_after=False (the article's equations, Keras reset_after=False):
        r_t  = sigma(W_r s)                z_t = sigma(W_z s)
        h'_t = tanh(W_h [r_t * h_{t-1}, x_t])          # reset applied BEFORE the recurrent product
        h_t  = (1 - z_t) * h_{t-1} + z_t * h'_t

    reset_after=True (torch.nn.GRU's and Keras' default maths):
        n_t  = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))   # reset AFTER the product
        h_t  = (1 - z_t) * n_t + z_t * h_{t-1}          # z keeps the OLD state, as in torch

Parameters use torch.nn.GRU's layout (gate order r, z, n; weight_ih (3H, I), weight_hh (3H, H),
bias_ih and bias_hh (3H,)), so weights copy across from torch.nn.GRU one to one.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


def gru_step(gi: torch.Tensor, h: torch.Tensor, weight_hh: torch.Tensor, bias_hh: torch.Tensor | None,
             reset_after: bool) -> torch.Tensor:
    """One step from the projected input gi = W_i x + b_i (B, 3H) and the state h (B, H) -> (B, H)."""
    H = h.shape[-1]
    gi_r, gi_z, gi_n = gi.split(H, dim=-1)
    if reset_after:
        gh_r, gh_z, gh_n = nn.functional.linear(h, weight_hh, bias_hh).split(H, dim=-1)
        r = torch.sigmoid(gi_r + gh_r)
        z = torch.sigmoid(gi_z + gh_z)
        n = torch.tanh(gi_n + r * gh_n)
        return n + z * (h - n)                    # (1 - z) * n + z * h
    b_rz = b_n = None
    if bias_hh is not None:
        b_rz, b_n = bias_hh[:2 * H], bias_hh[2 * H:]
    gh_r, gh_z = nn.functional.linear(h, weight_hh[:2 * H], b_rz).split(H, dim=-1)
    r = torch.sigmoid(gi_r + gh_r)
    z = torch.sigmoid(gi_z + gh_z)
    cand = torch.tanh(gi_n + nn.functional.linear(r * h, weight_hh[2 * H:], b_n))
    return h + z * (cand - h)                     # (1 - z) * h + z * h'


def _init(module: nn.Module, hidden_size: int) -> None:
    # torch.nn.GRU's initialisation, so both implementations start from the same distribution
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


class GRUCell(nn.Module):
    """One step: x (B, I), h (B, H) or None -> new h (B, H). Same parameters as torch.nn.GRUCell."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, reset_after: bool = False):
        super().__init__()
        self.input_size, self.hidden_size, self.reset_after = input_size, hidden_size, reset_after
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size)) if bias else None
        _init(self, hidden_size)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        gi = nn.functional.linear(x, self.weight_ih, self.bias_ih)
        return gru_step(gi, h, self.weight_hh, self.bias_hh, self.reset_after)


class GRU(nn.Module):
    """Stacked, batch-first GRU.

    forward(x (B, T, I), h0 (L, B, H) or None) -> (y, h_n) where h_n is (L, B, H) and y is the
    last layer's outputs (B, T, H) with return_sequences=True, else its last state (B, H).
    Parameter names (weight_ih_l0, bias_hh_l1, ...) are torch.nn.GRU's, so state dicts load
    from one into the other.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 reset_after: bool = False, return_sequences: bool = True):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.reset_after, self.return_sequences = bias, reset_after, return_sequences
        for i in range(num_layers):
            width = input_size if i == 0 else hidden_size
            self.register_parameter(f"weight_ih_l{i}", nn.Parameter(torch.empty(3 * hidden_size, width)))
            self.register_parameter(f"weight_hh_l{i}", nn.Parameter(torch.empty(3 * hidden_size, hidden_size)))
            if bias:
                self.register_parameter(f"bias_ih_l{i}", nn.Parameter(torch.empty(3 * hidden_size)))
                self.register_parameter(f"bias_hh_l{i}", nn.Parameter(torch.empty(3 * hidden_size)))
        _init(self, hidden_size)

    def layer(self, i: int):
        """(weight_ih, weight_hh, bias_ih, bias_hh) of layer i (biases None without bias)."""
        get = lambda name: getattr(self, f"{name}_l{i}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 3:
            raise ValueError(f"GRU expects (batch, time, features), got shape {tuple(x.shape)}")
        B, T, _ = x.shape
        finals = []
        for i in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self.layer(i)
            h = x.new_zeros(B, self.hidden_size) if h0 is None else h0[i]
            gi = nn.functional.linear(x, w_ih, b_ih)   # (B, T, 3H): every input product in one GEMM
            outs = []
            for t in range(T):
                h = gru_step(gi[:, t], h, w_hh, b_hh, self.reset_after)
                outs.append(h)
            x = torch.stack(outs, dim=1)          # (B, T, H): the next layer's input
            finals.append(h)
        h_n = torch.stack(finals)
        return (x if self.return_sequences else finals[-1]), h_n

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"reset_after={self.reset_after}, return_sequences={self.return_sequences}")
