"""ganforge: train, evaluate and use GANs, CycleGAN, CNN classifiers and GRU forecasters.

    import ganforge
    run = ganforge.train("gan", preset="dcgan-mnist", data="mnist5k", steps=2000)
    gen = ganforge.load(run / "checkpoint.pt")
    images = gen.sample(16)          # (16, 1, 28, 28) floats in [-1, 1]
"""
from .errors import UserError  # noqa: F401  (light; everything heavy is imported lazily)
from .version import __version__  # noqa: F401


def __getattr__(name):
    if name in ("train", "load"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
