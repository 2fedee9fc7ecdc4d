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
import os

import torch
import torch.nn as nn

from ganforge.nn import kernel


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


class _GRUSequence(torch.autograd.Function):
    """A whole layer's recurrence with a hand-written backward: gi (T, B, 3H), h0 (B, H) -> hs (T, B, H).

    gi = W_i x + b_i for every step is one GEMM outside (ordinary autograd), and so are the weight
    gradients, one GEMM over all steps at the end of the backward. Autograd records one node per
    layer instead of ~15 per time step, which is what makes torch.nn.GRU slow on the CPU for small
    hidden sizes. The time loops themselves run in one of two implementations of the same maths:
    _gru_kernel.c (float32 on the CPU, compiled on first use, see kernel.py), or PyTorch ops
    (everything else: float64, GPUs, machines with no C compiler). Tests check both against
    gru_step under plain autograd.
    """

    @staticmethod
    def forward(ctx, gi, h0, weight_hh, bias_hh, reset_after: bool):
        lib = _kernel_for(gi, h0, weight_hh, bias_hh)
        step = _forward_kernel if lib is not None else _forward_torch
        hs, gates, outs, extra = step(lib, gi, h0, weight_hh, bias_hh, reset_after)
        # extra: W_hn h + b_hn (reset_after) or r * h_{t-1} (article)
        ctx.save_for_backward(weight_hh, hs, gates, outs, extra)
        ctx.reset_after, ctx.kernel = reset_after, lib
        return hs[1:]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_hs):
        weight_hh, hs, rz, out, extra = ctx.saved_tensors
        T, B, H = d_hs.shape
        lib = ctx.kernel if d_hs.dtype == torch.float32 else None
        step = _backward_kernel if lib is not None else _backward_torch
        # d_gi: gradient of W_i x + b_i (T, B, 3H); d_hn: of the n part of W_h h + b_h (T, B, H), which
        # for the article's maths is d_gi's own n part; dh: of h0
        d_gi, d_hn, dh = step(lib, weight_hh, hs, rz, out, extra, d_hs, ctx.reset_after)
        h_prev = hs[:-1].reshape(T * B, H)
        d_rz = d_gi.view(T * B, 3 * H)[:, :2 * H]
        d_hn = d_hn.reshape(T * B, H)
        rhs_n = h_prev if ctx.reset_after else extra.view(T * B, H)     # what multiplies W_hn
        d_w = torch.cat([d_rz.t() @ h_prev, d_hn.t() @ rhs_n], 0)
        d_b = torch.cat([d_rz.sum(0), d_hn.sum(0)])
        return d_gi, dh, d_w, d_b, None


def _kernel_for(gi, h0, weight_hh, bias_hh):
    """The C kernel where it applies (float32 CPU tensors, hidden size <= kernel.MAX_HIDDEN), else None."""
    tensors = (gi, h0, weight_hh, bias_hh)
    if gi.device.type != "cpu" or any(t.dtype != torch.float32 for t in tensors) or h0.shape[-1] > kernel.MAX_HIDDEN:
        return None
    return kernel.load()


def _threads() -> int:
    """The kernel's threads: torch's intra-op count (it shares torch's OpenMP pool), or GANFORGE_GRU_THREADS."""
    return int(os.environ.get("GANFORGE_GRU_THREADS", 0)) or torch.get_num_threads()


def _forward_kernel(lib, gi, h0, weight_hh, bias_hh, reset_after):
    T, B, H3 = gi.shape
    H = H3 // 3
    gi, h0, w, bias_hh = gi.contiguous(), h0.contiguous(), weight_hh.contiguous(), bias_hh.contiguous()
    hs, rz = gi.new_empty(T + 1, B, H), gi.new_empty(T, B, 2 * H)
    out, extra = gi.new_empty(T, B, H), gi.new_empty(T, B, H)
    rc = lib.gru_forward(T, B, H, int(reset_after), _threads(), *map(torch.Tensor.data_ptr, (
        gi, h0, w, bias_hh, hs, rz, out, extra)))
    if rc:
        raise RuntimeError(f"GRU kernel refused T={T} B={B} H={H}")
    return hs, rz, out, extra


def _backward_kernel(lib, weight_hh, hs, rz, out, extra, d_hs, reset_after):
    T, B, H = d_hs.shape
    d_hs, w = d_hs.contiguous(), weight_hh.contiguous()
    d_gi, dh = d_hs.new_empty(T, B, 3 * H), d_hs.new_empty(B, H)
    d_hn = d_hs.new_empty(T, B, H) if reset_after else d_gi[..., 2 * H:]
    rc = lib.gru_backward(T, B, H, int(reset_after), _threads(), *map(torch.Tensor.data_ptr, (
        w, hs, rz, out, extra, d_hs, d_gi)), d_hn.data_ptr() if reset_after else None, dh.data_ptr())
    if rc:
        raise RuntimeError(f"GRU kernel refused T={T} B={B} H={H}")
    return d_gi, d_hn, dh


def _forward_torch(_lib, gi, h0, weight_hh, bias_hh, reset_after):
    T, B, H3 = gi.shape
    H = H3 // 3
    # Each step makes fresh tensors (writing into slices of big buffers is slower at these
    # sizes) and reads per-step inputs from lists made once with unbind.
    w_rz, w_n = weight_hh[:2 * H].t(), weight_hh[2 * H:].t()
    c_rz = (gi[..., :2 * H] + bias_hh[:2 * H]).unbind(0)       # input + bias part of the r, z gates
    h, hs, gates, outs, saved = h0, [], [], [], []
    if reset_after:
        gi_n, b_n = gi[..., 2 * H:].unbind(0), bias_hh[2 * H:]
        for t in range(T):
            rz = torch.addmm(c_rz[t], h, w_rz).sigmoid_()
            gh_n = torch.addmm(b_n, h, w_n)                     # W_hn h + b_hn, reset AFTER the product
            n = torch.addcmul(gi_n[t], rz[:, :H], gh_n).tanh_()
            h = torch.lerp(n, h, rz[:, H:])                     # (1 - z) * n + z * h
            hs.append(h), gates.append(rz), outs.append(n), saved.append(gh_n)
    else:
        c_n = (gi[..., 2 * H:] + bias_hh[2 * H:]).unbind(0)
        for t in range(T):
            rz = torch.addmm(c_rz[t], h, w_rz).sigmoid_()
            rh = rz[:, :H] * h                                  # reset BEFORE the recurrent product
            cand = torch.addmm(c_n[t], rh, w_n).tanh_()
            h = torch.lerp(h, cand, rz[:, H:])                  # (1 - z) * h + z * h'
            hs.append(h), gates.append(rz), outs.append(cand), saved.append(rh)
    return torch.stack([h0, *hs]), torch.stack(gates), torch.stack(outs), torch.stack(saved)


def _backward_torch(_lib, weight_hh, hs, rz, out, extra, d_hs, reset_after):
    T, B, H = d_hs.shape
    h_prev = hs[:-1]
    r, z = rz[..., :H], rz[..., H:]
    d_next = [d_hs.new_zeros(B, H), *d_hs.unbind(0)[:-1]]    # d_next[t] = gradient from outside at t - 1
    dh = d_hs[-1]
    first, second = [], []
    # Everything that does not depend on the incoming gradient is computed for all steps at once;
    # the loop then uses plain same-shape products (broadcasting ones are several times slower here).
    if reset_after:
        n, gh_n = out, extra
        to_z = ((h_prev - n) * z * (1 - z)).unbind(0)         # dh -> d(z pre-activation)
        to_n = ((1 - z) * (1 - n * n)).unbind(0)              # dh -> d(n pre-activation)
        to_r = (gh_n * r * (1 - r)).unbind(0)                 # d(n pre) -> d(r pre-activation)
        r_, z_ = r.unbind(0), z.unbind(0)
        for t in reversed(range(T)):
            d_n = dh * to_n[t]
            d_gh = torch.cat([d_n * to_r[t], dh * to_z[t], d_n * r_[t]], 1)   # d(W_h h + b_h): r, z, n
            dh = torch.addmm(torch.addcmul(d_next[t], dh, z_[t]), d_gh, weight_hh)
            first.append(d_gh), second.append(d_n)
        d_gh, d_n = torch.stack(first[::-1]), torch.stack(second[::-1])     # (T, B, 3H), (T, B, H)
        return torch.cat([d_gh[..., :2 * H], d_n], 2), d_gh[..., 2 * H:], dh
    cand = out
    to_z = ((cand - h_prev) * z * (1 - z)).unbind(0)      # dh -> d(z pre-activation)
    to_c = (z * (1 - cand * cand)).unbind(0)              # dh -> d(candidate pre-activation)
    to_r = (h_prev * r * (1 - r)).unbind(0)               # d(r * h) -> d(r pre-activation)
    keep, r_ = (1 - z).unbind(0), r.unbind(0)
    w_rz, w_n = weight_hh[:2 * H], weight_hh[2 * H:]
    for t in reversed(range(T)):
        d_c = dh * to_c[t]
        d_rh = d_c @ w_n
        d_rz = torch.cat([d_rh * to_r[t], dh * to_z[t]], 1)
        dh = torch.addmm(torch.addcmul(torch.addcmul(d_next[t], dh, keep[t]), d_rh, r_[t]), d_rz, w_rz)
        first.append(d_rz), second.append(d_c)
    d_gi = torch.cat([torch.stack(first[::-1]), torch.stack(second[::-1])], 2)   # (T, B, 3H)
    return d_gi, d_gi[..., 2 * H:], dh


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
            # (T, B, 3H): every input product in one GEMM, time-major so each step's slice is contiguous
            gi = nn.functional.linear(x.transpose(0, 1), w_ih, b_ih).contiguous()
            b_hh = b_hh if b_hh is not None else w_hh.new_zeros(3 * self.hidden_size)
            with torch.autocast(x.device.type, enabled=False):   # the recurrence runs in the weights' dtype
                hs = _GRUSequence.apply(gi.to(w_hh.dtype), h.to(w_hh.dtype), w_hh, b_hh, self.reset_after)
            x = hs.transpose(0, 1)                # (B, T, H): the next layer's input
            finals.append(hs[-1])
        h_n = torch.stack(finals)
        return (x if self.return_sequences else finals[-1]), h_n

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"reset_after={self.reset_after}, return_sequences={self.return_sequences}")
