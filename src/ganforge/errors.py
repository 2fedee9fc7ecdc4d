"""The one exception the CLI prints as a plain message (exit code 2) instead of a traceback."""


class UserError(Exception):
    """Bad input from the user: a missing file, an unknown name, an impossible setting."""

    every_rank = False   # raised by every torchrun process alike: only rank 0 prints it


class RunStopped(UserError):
    """Every rank stopped the run at the same step (Ctrl-C, SIGTERM); the checkpoint is saved."""

    every_rank = True


class TrainingDiverged(RunStopped):
    """A loss became NaN or inf on some rank; the last good checkpoint is kept."""


def did_you_mean(kind: str, name: str, valid) -> UserError:
    """A UserError naming the valid choices, e.g. "unknown model 'dcgn'; choose from: ..."."""
    return UserError(f"unknown {kind} {name!r}; choose from: {', '.join(sorted(valid))}")
