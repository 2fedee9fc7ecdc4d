"""Feature extractors for FID / KID / IS / precision-recall.

    inception          the standard FID Inception-v3 (TF 2015-12-05 weights, pool3 2048-d), as the
                       TorchScript file StyleGAN2-ADA publishes; needs no torchvision. Downloaded
                       once into <cache>/inception/ (`ganforge eval ... --extractor inception`), or
                       copied there by hand when offline.
    classifier:CKPT    the hidden layer of a ganforge classifier checkpoint (`classifier` alone:
                       the embedded cnn-small trained on mnist5k). Its scores are labelled
                       "classifier-FID (<model>@<dataset>)" and are not comparable to Inception FID.
    auto               inception when its file is already in the cache, else the embedded
                       classifier for MNIST-shaped data, else an error saying what to pass.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from ..data.download import cache_dir, fetch
from ..errors import UserError
from ..models.evaluators import EMBEDDED, Classifier
from ..nn import checkpoint

INCEPTION_URL = ("https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/"
                 "inception-2015-12-05.pt")
MNIST_LIKE = ("mnist5k", "mnist")


# SHA-256 of the published file; None until someone pins it from a verified download (NVIDIA
# publishes none, and this machine cannot fetch the file). Until then the hash recorded at download
# time guards the cached copy: a changed or planted file is refused before TorchScript loads it.
INCEPTION_SHA256: str | None = None


def inception_path() -> Path:
    return cache_dir() / "inception" / "inception-2015-12-05.pt"


def _verify_inception(path: Path) -> None:
    from ..data.download import recorded, sha256sum

    rec = recorded(path)
    want = INCEPTION_SHA256 or (rec or {}).get("sha256")
    if want is None:
        return   # placed by hand, no hash known: nothing to compare with
    got = sha256sum(path)
    if got != want:
        raise UserError(f"{path} is not the file that was downloaded (SHA-256 {got[:16]}..., expected {want[:16]}...); "
                        f"delete it and run again to download {INCEPTION_URL}")


class Extractor:
    """name: label for results; key: identifies the weights in cache file names;
    image_shape: the (C, H, W) it needs, or None if it resizes itself."""

    name: str = "?"
    key: str = "?"
    image_shape: tuple[int, int, int] | None = None
    layer: str = "?"             # which activations are the features (for eval.json)
    resize: str = "none"         # how images reach the net's input size
    sha256: str | None = None    # of the weights file, so two scores name exactly what measured them
    flag: str = "--extractor"   # the flag that chose it: `eval --extractor`, `train gan --eval-extractor`

    def check(self, image_shape) -> None:
        if self.image_shape is not None and tuple(image_shape) != self.image_shape:
            want, got = ("x".join(map(str, s)) for s in (self.image_shape, image_shape))
            raise UserError(f"{self.name} needs {want} images (CxHxW) but these are {got}; train a classifier on "
                            f"this data (ganforge train classifier --data ...) and pass {self.flag} classifier:CKPT, "
                            f"or use {self.flag} inception")

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """float (N, C, H, W) in [-1, 1] -> (N, D)."""
        raise NotImplementedError

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """float (N, C, H, W) in [-1, 1] -> (N, K) class logits (for IS and label accuracy)."""
        raise NotImplementedError


class ClassifierExtractor(Extractor):
    def __init__(self, path: str | Path, label: str | None = None, device=None):
        path = Path(path)
        self.clf = Classifier(checkpoint.load(path, "classifier"), device=device)   # features come back on the CPU
        self.image_shape = self.clf.image_shape
        self.classes = self.clf.classes
        self.name = f"classifier-FID ({label or self.clf.name})"
        weights = Path(self.clf.path).read_bytes()
        self.key = f"{self.clf.config.model}-{hashlib.sha1(weights).hexdigest()[:12]}"
        self.sha256 = hashlib.sha256(weights).hexdigest()
        self.layer = "forward_features (the classifier's hidden layer)"
        self.resize = "none (images must be the classifier's size)"

    def features(self, images):
        self.check(images.shape[1:])
        return self.clf.features(images)

    def logits(self, images):
        self.check(images.shape[1:])
        return self.clf.logits(images)


class InceptionExtractor(Extractor):
    """StyleGAN2-ADA's TorchScript port of the TF FID Inception: uint8 (N, 3, H, W) in, it resizes
    to 299 itself. forward(x, return_features=True) -> pool3 (N, 2048); forward(x,
    no_output_bias=True) -> class probabilities (N, 1008), which IS uses as in the original."""

    name = "FID (Inception-v3)"
    key = "inception-2015-12-05"
    layer = "pool3 (2048)"
    resize = "bilinear to 299x299 inside the TorchScript net (uint8 input)"

    def __init__(self, download: bool = True, batch_size: int = 100, device=None):
        path = inception_path()
        if not path.is_file():
            if not download:
                raise UserError(f"the Inception weights are not at {path}; download {INCEPTION_URL} there")
            fetch(INCEPTION_URL, path, None)
        _verify_inception(path)
        try:
            self.device = torch.device(device or "cpu")
            self.net = torch.jit.load(str(path), map_location=self.device).eval()
        except Exception as e:   # a truncated or foreign file
            raise UserError(f"{path} is not the FID Inception TorchScript file ({str(e)[:120]}); delete it and "
                            f"download {INCEPTION_URL} again") from None
        self.batch_size = batch_size
        from ..data.download import sha256sum

        self.sha256 = INCEPTION_SHA256 or sha256sum(path)

    def _run(self, images, **kw):
        from ..data import to_uint8

        out = []
        with torch.no_grad():
            for chunk in images.split(self.batch_size):
                x = to_uint8(chunk).to(self.device)   # uint8 crosses to the GPU: a quarter of the float bytes
                if x.shape[1] == 1:
                    x = x.expand(-1, 3, -1, -1)
                out.append(self.net(x, **kw).float().cpu())
        return torch.cat(out)

    def features(self, images):
        return self._run(images, return_features=True)

    def logits(self, images):
        return self._run(images, no_output_bias=True).clamp_min(1e-12).log()   # log-probs: softmax gives p back


def get_extractor(spec: str, image_shape: tuple[int, int, int], dataset: str | None,
                  flag: str = "--extractor", device=None) -> Extractor:
    """The extractor `spec` (auto | inception | classifier | classifier:CKPT) for images of
    `image_shape` from `dataset`, computing on `device` (None: the CPU; evaluation passes the
    generator's); its features and logits come back on the CPU. UserError when it cannot handle
    them, naming `flag`."""
    kind, _, arg = spec.partition(":")
    if kind == "auto" and not arg:
        if inception_path().is_file():
            ext = InceptionExtractor(download=False, device=device)
        elif dataset in MNIST_LIKE and tuple(image_shape) == (1, 28, 28):
            ext = ClassifierExtractor(EMBEDDED, "cnn-small@mnist5k", device=device)
        else:
            raise UserError(f"no offline feature extractor for {dataset or 'these images'} at "
                            f"{'x'.join(map(str, image_shape))}: pass {flag} inception (downloads the FID "
                            f"Inception weights once, about 90 MB, to {inception_path()}) or {flag} classifier:CKPT "
                            f"with a classifier trained on this data (ganforge train classifier --data {dataset})")
    elif kind == "inception" and not arg:
        ext = InceptionExtractor(device=device)
    elif kind == "classifier":
        try:
            ext = (ClassifierExtractor(arg, device=device) if arg
                   else ClassifierExtractor(EMBEDDED, "cnn-small@mnist5k", device=device))
        except UserError as e:
            raise UserError(f"{flag} {spec}: {e}") from None
    else:
        raise UserError(f"unknown extractor {flag} {spec!r}; choose from: auto, inception, classifier, "
                        "classifier:CKPT")
    ext.flag = flag
    ext.check(image_shape)
    return ext
