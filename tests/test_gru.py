"""ganforge.nn.gru: the article's equations by hand, torch.nn.GRU's maths with copied weights."""
import pytest
import torch

from ganforge import models
from ganforge.nn import kernel
from ganforge.nn.gru import GRU, GRUCell


def article_step(cell: GRUCell, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """The article's four equations literally, with W_* acting on the concatenation [h, x]."""
    H = cell.hidden_size
    W = torch.cat([cell.weight_hh, cell.weight_ih], dim=1)      # (3H, H + I): rows r, z, h
    b = cell.bias_ih + cell.bias_hh
    W_r, W_z, W_h = W[:H], W[H:2 * H], W[2 * H:]
    b_r, b_z, b_h = b[:H], b[H:2 * H], b[2 * H:]
    hx = torch.cat([h, x], dim=1)
    r = torch.sigmoid(hx @ W_r.T + b_r)
    z = torch.sigmoid(hx @ W_z.T + b_z)
    cand = torch.tanh(torch.cat([r * h, x], dim=1) @ W_h.T + b_h)
    return (1 - z) * h + z * cand


def test_article_cell_matches_the_equations():
    torch.manual_seed(0)
    cell = GRUCell(3, 4, reset_after=False)
    x, h = torch.randn(5, 3), torch.randn(5, 4)
    torch.testing.assert_close(cell(x, h), article_step(cell, x, h), atol=1e-6, rtol=1e-6)
    # and over a whole sequence through the layer, from a zero state
    gru = GRU(3, 4, reset_after=False, return_sequences=True)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(gru, f"{name}_l0"))
    seq = torch.randn(2, 6, 3)
    out, h_n = gru(seq)
    h = torch.zeros(2, 4)
    for t in range(6):
        h = article_step(cell, seq[:, t], h)
        torch.testing.assert_close(out[:, t], h, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(h_n[0], h)


def test_article_cell_hand_numbers():
    """1 input, 1 unit, every weight 0.5 and bias 0: the equations worked out with a calculator."""
    cell = GRUCell(1, 1, reset_after=False)
    with torch.no_grad():
        for p in (cell.weight_ih, cell.weight_hh):
            p.fill_(0.5)
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    h1 = cell(torch.tensor([[1.0]]), torch.tensor([[1.0]])).item()
    # r = z = sigmoid(0.5 + 0.5) = 0.731059; h' = tanh(0.5 * 0.731059 + 0.5) = 0.699096
    # h = (1 - z) * 1 + z * h' = 0.268941 + 0.511080 = 0.780021
    assert h1 == pytest.approx(0.780021, abs=1e-5)


@pytest.mark.parametrize("layers", [1, 2])
def test_reset_after_matches_torch_gru(layers):
    torch.manual_seed(1)
    ref = torch.nn.GRU(3, 5, layers, batch_first=True)
    ours = GRU(3, 5, layers, reset_after=True)
    ours.load_state_dict(ref.state_dict())
    x, h0 = torch.randn(4, 9, 3), torch.randn(layers, 4, 5)
    y_ref, h_ref = ref(x, h0)
    y, h = ours(x, h0)
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(h, h_ref, atol=1e-5, rtol=1e-5)
    # gradients agree too
    y_ref.square().sum().backward()
    y.square().sum().backward()
    torch.testing.assert_close(ours.weight_hh_l0.grad, ref.weight_hh_l0.grad, atol=1e-5, rtol=1e-4)
    # the cell alone matches torch.nn.GRUCell
    cell, ref_cell = GRUCell(3, 5, reset_after=True), torch.nn.GRUCell(3, 5)
    cell.load_state_dict(ref_cell.state_dict())
    torch.testing.assert_close(cell(x[:, 0], h0[0]), ref_cell(x[:, 0], h0[0]), atol=1e-5, rtol=1e-5)


def test_variants_differ_and_last_state_mode():
    torch.manual_seed(2)
    a = GRU(2, 3, 2, reset_after=False, return_sequences=False)
    b = GRU(2, 3, 2, reset_after=True, return_sequences=False)
    b.load_state_dict(a.state_dict())
    x = torch.randn(4, 7, 2)
    last_a, h_a = a(x)
    assert last_a.shape == (4, 3) and h_a.shape == (2, 4, 3)
    torch.testing.assert_close(last_a, h_a[-1])
    assert (last_a - b(x)[0]).abs().max() > 1e-3     # the two maths really are different


@pytest.mark.parametrize("cell,reset_after", [("torch", True), ("ganforge", True), ("ganforge", False)])
def test_forecaster_model_trains(cell, reset_after):
    torch.manual_seed(3)
    net = models.create("gru", kind="forecaster", n_inputs=2, horizon=3, hidden=(6, 5), cell=cell,
                        reset_after=reset_after)
    x = torch.rand(8, 12, 2)
    y = x[:, -1, :1] + torch.tensor([0.5, 1.0, 1.5])   # learnable: a shift of the last input
    assert net(x).shape == (8, 3)
    opt = torch.optim.Adam(net.parameters(), 2e-2)
    losses = []
    for _ in range(25):
        loss = torch.nn.functional.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


def test_forecaster_cells_share_weights():
    """--cell torch and --cell ganforge (reset_after) are the same function of the same weights."""
    a = models.create("gru", kind="forecaster", n_inputs=1, horizon=2, hidden=(4, 4), cell="torch")
    b = models.create("gru", kind="forecaster", n_inputs=1, horizon=2, hidden=(4, 4), cell="ganforge")
    b.load_state_dict(a.state_dict())
    x = torch.rand(3, 10, 1)
    torch.testing.assert_close(a(x), b(x), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="reset_after"):
        models.create("gru", kind="forecaster", cell="torch", reset_after=False)


def step_by_step(gru: GRU, x: torch.Tensor, h0: torch.Tensor):
    """Reference: the layer as a plain loop of gru_step under ordinary autograd."""
    from ganforge.nn.gru import gru_step

    finals = []
    for i in range(gru.num_layers):
        w_ih, w_hh, b_ih, b_hh = gru.layer(i)
        h, outs = h0[i], []
        gi = torch.nn.functional.linear(x, w_ih, b_ih)
        for t in range(x.shape[1]):
            h = gru_step(gi[:, t], h, w_hh, b_hh, gru.reset_after)
            outs.append(h)
        x = torch.stack(outs, 1)
        finals.append(h)
    return x, torch.stack(finals)


@pytest.mark.parametrize("reset_after", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_sequence_matches_step_loop_values_and_gradients(reset_after, bias):
    torch.manual_seed(4)
    gru = GRU(3, 4, 2, bias=bias, reset_after=reset_after).double()
    x = torch.randn(5, 7, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 5, 4, dtype=torch.float64, requires_grad=True)
    y, h = gru(x, h0)
    y_ref, h_ref = step_by_step(gru, x, h0)
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(h, h_ref)
    wy, wh = torch.randn_like(y), torch.randn_like(h)     # gradients through both outputs
    inputs = [x, h0, *gru.parameters()]
    grads = torch.autograd.grad((y * wy).sum() + (h * wh).sum(), inputs)
    grads_ref = torch.autograd.grad((y_ref * wy).sum() + (h_ref * wh).sum(), inputs)
    for (name, _), g, g_ref in zip([("x", 0), ("h0", 0), *gru.named_parameters()], grads, grads_ref):
        torch.testing.assert_close(g, g_ref, msg=lambda m, name=name: f"{name}: {m}")


def test_fused_sequence_runs_in_fp32_under_bf16_autocast():
    gru = GRU(2, 3, 1, reset_after=True)
    x = torch.randn(4, 6, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y, h = gru(x)
    assert y.dtype == torch.float32 and torch.isfinite(y).all()
    y.sum().backward()
    assert torch.isfinite(gru.weight_hh_l0.grad).all()


needs_cc = pytest.mark.skipif(not kernel._compiler(), reason="no C compiler: the GRU runs on PyTorch ops")


@needs_cc
@pytest.mark.parametrize("reset_after", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
def test_c_kernel_matches_float64_reference(reset_after, bias, threads, monkeypatch):
    """float32 through _gru_kernel.c against the float64 step loop: values and every gradient.
    Batch 7 and hidden 13 exercise the partial row block (rows go 4 at a time) and vector padding."""
    assert kernel.load() is not None, "a compiler is here, so the kernel must build"
    monkeypatch.setenv("GANFORGE_GRU_THREADS", str(threads))
    torch.manual_seed(5)
    gru = GRU(3, 13, 2, bias=bias, reset_after=reset_after)
    ref = GRU(3, 13, 2, bias=bias, reset_after=reset_after).double()
    ref.load_state_dict(gru.state_dict())
    x, h0 = torch.randn(7, 11, 3, requires_grad=True), torch.randn(2, 7, 13, requires_grad=True)
    x64, h064 = x.detach().double().requires_grad_(), h0.detach().double().requires_grad_()
    y, h = gru(x, h0)
    y_ref, h_ref = step_by_step(ref, x64, h064)
    torch.testing.assert_close(y, y_ref.float(), atol=2e-6, rtol=1e-5)
    torch.testing.assert_close(h, h_ref.float(), atol=2e-6, rtol=1e-5)
    wy, wh = torch.randn_like(y), torch.randn_like(h)
    grads = torch.autograd.grad((y * wy).sum() + (h * wh).sum(), [x, h0, *gru.parameters()])
    grads_ref = torch.autograd.grad((y_ref * wy.double()).sum() + (h_ref * wh.double()).sum(),
                                    [x64, h064, *ref.parameters()])
    for (name, _), g, g_ref in zip([("x", 0), ("h0", 0), *gru.named_parameters()], grads, grads_ref):
        torch.testing.assert_close(g, g_ref.float(), atol=2e-5, rtol=1e-4, msg=lambda m, name=name: f"{name}: {m}")


@needs_cc
def test_c_kernel_and_torch_ops_paths_agree(monkeypatch):
    torch.manual_seed(6)
    gru = GRU(1, 50, 2, reset_after=True)
    x = torch.randn(32, 40, 1)
    results = []
    for flag in ("1", "0"):                 # GANFORGE_GRU_KERNEL=0 forces the PyTorch-ops path
        monkeypatch.setenv("GANFORGE_GRU_KERNEL", flag)
        gru.zero_grad()
        y, _ = gru(x)
        y[:, -1].square().sum().backward()
        results.append([y.detach(), *(p.grad.clone() for p in gru.parameters())])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("compiler,message", [(None, "no C compiler"), ("false", "false failed")])
def test_without_a_working_compiler_the_gru_falls_back_with_a_warning(compiler, message, monkeypatch, tmp_path):
    monkeypatch.setattr(kernel, "_lib", None)
    monkeypatch.setattr(kernel, "_tried", False)
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path))
    monkeypatch.setattr(kernel, "_compiler", lambda: compiler)     # "false": a compiler that always fails
    with pytest.warns(UserWarning, match=message):
        assert kernel.load() is None
    assert kernel.load() is None                    # tried once, not again
    assert not list(tmp_path.rglob("*.so"))         # and nothing half-built left in the cache
    gru = GRU(2, 3, reset_after=False)
    y, h = gru(torch.randn(2, 5, 2))
    y.sum().backward()
    assert y.shape == (2, 5, 3) and torch.isfinite(gru.weight_hh_l0.grad).all()
