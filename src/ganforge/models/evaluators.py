"""Evaluator networks: trained classifiers rebuilt from their checkpoints, frozen, for the metrics
(classifier-FID features, label accuracy) and the perceptual loss, which reach them here without
importing a task or the engine. EMBEDDED is the shipped cnn-small trained on mnist5k."""
from __future__ import annotations

import torch

from ..config import ClassifierConfig
from ..data import to_float
from ..data.images import BUILTIN
from ..errors import UserError
from ..nn import eval_mode
from . import registry
from .loader import Loaded

EVAL_BATCH = 500
EMBEDDED = BUILTIN / "cnn-small-mnist5k.pt"


@torch.no_grad()
def predict_logits(net: torch.nn.Module, images: torch.Tensor, batch: int = EVAL_BATCH) -> torch.Tensor:
    """uint8 or float [-1, 1] images (N, C, H, W) -> logits (N, K), in eval mode."""
    device = next(net.parameters()).device
    with eval_mode(net):
        out = [net((to_float(x) if x.dtype == torch.uint8 else x).to(device)).float().cpu() for x in images.split(batch)]
    return torch.cat(out)


def build_net(model: str, image_shape, num_classes: int, width: int = 0) -> torch.nn.Module:
    kw = {"width": width} if width else {}
    return registry.create(model, kind="classifier", in_channels=image_shape[0], image_size=image_shape[1],
                           num_classes=num_classes, **kw)


class Classifier(Loaded):
    """A trained classifier rebuilt from its checkpoint. Images are float (N, C, H, W) in [-1, 1]
    (or uint8) at the training shape `image_shape`."""

    config_class = ClassifierConfig

    @classmethod
    def card_io(cls, config, meta):
        shape = ", ".join(map(str, meta["image_shape"]))
        return {"value_range": [-1, 1], "inputs": {"image": f"(N, {shape}) float in [-1, 1]"},
                "outputs": {"logits": "(N, classes)"}}

    def build_nets(self, config, meta):
        return {"net": build_net(config.model, tuple(meta["image_shape"]), len(meta["classes"]), config.width)}

    def setup(self, nets) -> None:
        self.net = nets["net"]
        self.image_shape = tuple(self.meta["image_shape"])
        self.classes = list(self.meta["classes"])
        self.dataset = self.meta["dataset"]
        self.name = f"{self.config.model}@{self.dataset}"

    def check(self, images: torch.Tensor) -> None:
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape:
            got = "x".join(map(str, images.shape[1:])) if images.ndim == 4 else str(tuple(images.shape))
            raise UserError(f"classifier {self.name} expects images of {'x'.join(map(str, self.image_shape))} "
                            f"(CxHxW), got {got}")

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, K)."""
        self.check(images)
        return predict_logits(self.net, images)   # on the net's device, logits back on the CPU

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> predicted class indices (N,)."""
        return self.logits(images).argmax(1)

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> the hidden layer before the softmax head (N, D): the FID embedding."""
        self.check(images)
        x = [to_float(b) if b.dtype == torch.uint8 else b for b in images.split(EVAL_BATCH)]
        heads = (self.net.forward_head(self.net.forward_features(self.to_device(b)), pre_logits=True) for b in x)
        return torch.cat([h.float().cpu() for h in heads])

    @torch.no_grad()
    def feature_maps(self, image: torch.Tensor) -> list[torch.Tensor]:
        """One image (C, H, W) -> the output map of each conv stage [(C_i, H_i, W_i)]."""
        self.check(image[None])
        return [m[0].float().cpu() for m in self.net.forward_stages(self.to_device(image[None]))]

    def read(self, path) -> torch.Tensor:
        """An image file -> (C, H, W) in [-1, 1] at this classifier's size (centre-cropped)."""
        import numpy as np

        from ..data.images import read_image, resize_center_crop

        c, size, _ = self.image_shape
        img = resize_center_crop(read_image(path, c), size)
        return to_float(torch.from_numpy(np.array(img, np.uint8).reshape(size, size, c)).permute(2, 0, 1))
