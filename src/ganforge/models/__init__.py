"""Model families. Each family module is imported here explicitly so none is forgotten."""
from . import cnn, conditional, convgan, cyclegan, dcgan, forecaster, mlp_gan  # noqa: F401  (registration side effects)
from . import lapgan, videogan  # noqa: F401
from . import srgan  # noqa: F401
from .registry import count_params, create, entries, get, register  # noqa: F401
