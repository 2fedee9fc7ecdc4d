"""Training configs: one dataclass per task (torch-free; `ganforge --help` is built from them)."""
from .base import (PRECISIONS, RunConfig, add_arguments, check_limits, coerce, flag_name, from_dict, opt,  # noqa: F401
                   resolve, to_dict)
from .classifier import ClassifierConfig
from .cyclegan import CycleGANConfig
from .forecaster import ForecasterConfig
from .gan import GAN_LOSSES, GANConfig  # noqa: F401
from .sr import SRConfig

# The one task table: task name -> config class. `ganforge train TASK` is built from it, and the task's
# code is ganforge.tasks.<name> (tasks.task_module).
TASKS: dict[str, type] = {"gan": GANConfig, "classifier": ClassifierConfig, "cyclegan": CycleGANConfig,
                          "forecaster": ForecasterConfig}
TASKS["sr"] = SRConfig
