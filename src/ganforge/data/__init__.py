"""Datasets: images (uint8 in memory), the batch sampler, downloads."""
from .images import ImageData, to_float, to_uint8  # noqa: F401
from .datasets import load_images  # noqa: F401
from .sampler import BatchSampler  # noqa: F401
from .batches import Batches, announce  # noqa: F401
