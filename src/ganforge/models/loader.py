"""The one way every task rebuilds a trained model: config -> build_nets -> weights.

    Classifier(ckpt)                                  # from a checkpoint dict (checkpoint.load)
    Upscaler(nets={"G": net}, config=cfg, meta=meta)  # around nets in training (evaluation, snapshots)
    Classifier(ckpt, device="cuda")                   # the nets on that device (torch.device or name)

The device is settled here, once for every task: the nets move to it before setup(), and a loaded
model's methods take inputs on any device and return their tensors on the CPU (`self.device` says
where the computation runs; to_device(x) moves an input there).
A task's loader subclasses Loaded and says only what is its own: its config class, how its nets are
built (the objective's own builder, so a checkpoint rebuilds exactly what trained), which checkpoint
entry holds each net's weights, and what it keeps of them (setup)."""
from __future__ import annotations

from typing import ClassVar

import torch

from ..nn import checkpoint


class Loaded:
    config_class: ClassVar[type]

    def __init__(self, ckpt: dict | None = None, *, nets: dict[str, torch.nn.Module] | None = None, config=None,
                 meta: dict | None = None, step: int | None = None, path: str = "the run in training",
                 device: torch.device | str | None = None):
        if ckpt is not None:
            from ..config import from_dict

            config = from_dict(self.config_class, ckpt["config"], f"checkpoint {ckpt['path']}")
            meta, step, path = ckpt["meta"], ckpt["step"], ckpt["path"]
            built = self.build_nets(config, meta)
            nets = {}
            for name, net in built.items():
                key = self.weight_key(name, ckpt)
                if key is not None:
                    nets[name] = checkpoint.load_module(net, ckpt, key).eval()
        elif nets is None or config is None or meta is None:
            raise TypeError(f"{type(self).__name__} needs a checkpoint, or nets, config and meta")
        if device is not None:   # None: where the nets are (a checkpoint's are on the CPU)
            device = torch.device(device)
            nets = {name: net.to(device) for name, net in nets.items()}
        self.device = device if device is not None else _device_of(nets)
        self.config, self.meta, self.step, self.path = config, meta, step, path
        self.setup(nets)

    def to_device(self, x: torch.Tensor) -> torch.Tensor:
        """An input tensor on the device the nets compute on (a copy only where it is elsewhere)."""
        return x.to(self.device, non_blocking=self.device.type == "cuda" and x.is_pinned())

    def build_nets(self, config, meta: dict) -> dict[str, torch.nn.Module]:
        """The nets a checkpoint of this task holds weights for, built from its config and meta."""
        raise NotImplementedError

    def weight_key(self, name: str, ckpt: dict) -> str | None:
        """The checkpoint's entry with the weights of net `name` (None: not in this checkpoint, skip it)."""
        return name

    def setup(self, nets: dict[str, torch.nn.Module]) -> None:
        """Keep what the loaded model needs of its nets (and its config and meta)."""
        raise NotImplementedError

    # What an export carries (use.export reads these, so it asks no task its name).
    @classmethod
    def inference_modules(cls, modules: dict) -> list[str]:
        """The checkpoint entries an exported model needs: no discriminators, no optimiser state."""
        return [k for k in modules if not k.startswith("D")] or list(modules)

    @classmethod
    def card_io(cls, config: dict, meta: dict) -> dict:
        """The model card's inputs, outputs and value range (shapes as text) for a saved config dict."""
        return {"value_range": [-1, 1]}


def _device_of(nets: dict[str, torch.nn.Module]) -> torch.device:
    for net in nets.values():
        for p in net.parameters():
            return p.device
    return torch.device("cpu")
