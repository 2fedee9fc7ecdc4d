"""Datasets: images (uint8 in memory), the batch sampler, downloads."""
from .images import ImageData, load_images, to_float, to_uint8  # noqa: F401
from .sampler import BatchSampler  # noqa: F401
from .batches import Batches, announce  # noqa: F401
