import pytest
import torch
import torch.nn as nn

from ganforge.nn.upsample import UpsampleConv2d


@pytest.mark.parametrize("hw", [(4, 4), (5, 7)])
def test_same_function_and_gradients_as_upsample_then_conv(hw):
    torch.manual_seed(0)
    fused = UpsampleConv2d(3, 5)
    conv = nn.Conv2d(3, 5, 3, padding=1)
    conv.load_state_dict(fused.state_dict())          # same parameter names and shapes
    x = torch.randn(2, 3, *hw, dtype=torch.float64, requires_grad=True)
    fused, conv = fused.double(), conv.double()
    y_fused = fused(x)
    y_ref = conv(nn.functional.interpolate(x, scale_factor=2, mode="nearest"))
    assert y_fused.shape == (2, 5, 2 * hw[0], 2 * hw[1])
    torch.testing.assert_close(y_fused, y_ref)
    g = torch.randn_like(y_ref)
    grads_fused = torch.autograd.grad(y_fused, [x, fused.weight, fused.bias], g)
    grads_ref = torch.autograd.grad(y_ref, [x, conv.weight, conv.bias], g)
    for a, b in zip(grads_fused, grads_ref):
        torch.testing.assert_close(a, b)


def test_channels_last_input_and_no_bias():
    torch.manual_seed(0)
    fused = UpsampleConv2d(4, 2, bias=False)
    conv = nn.Conv2d(4, 2, 3, padding=1, bias=False)
    conv.weight.data.copy_(fused.weight.data)
    x = torch.randn(3, 4, 6, 6).contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fused(x), conv(nn.functional.interpolate(x, scale_factor=2)), rtol=1e-5, atol=1e-5)
