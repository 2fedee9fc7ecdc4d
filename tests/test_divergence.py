"""The generic loop stops a run whose loss stays past --diverge-bound for --diverge-window steps, as
it stops a NaN, keeping the last checkpoint written before the window; a short spike passes."""
import pytest
import torch

from ganforge import config as C
from ganforge.cli import main
from ganforge.nn import checkpoint
from ganforge.engine.loop import Objective, fit
from ganforge.engine.rundir import RunDir
from ganforge.errors import TrainingDiverged


class Scripted(Objective):
    """A one-weight objective whose logged loss follows `losses(step)` (1-based step)."""

    task = "scripted"

    def __init__(self, cfg, losses):
        super().__init__(cfg)
        self.net = torch.nn.Linear(1, 1)
        self.modules, self.losses = {"net": self.net}, losses
        self.optimizers = {"net": torch.optim.SGD(self.net.parameters(), lr=0.0)}

    def train_step(self, step):
        return {"loss": float(self.losses(step + 1)), "acc": 1e9}   # only stats named *loss* count


def _run(tmp_path, losses, **kw):
    cfg = C.resolve(C.RunConfig, steps=30, progress=False, out=str(tmp_path), ckpt_every=5, sample_every=0,
                    precision="fp32", device="cpu", **kw)
    run = RunDir.create(cfg.out, "scripted")
    return run, lambda: fit(Scripted(cfg, losses), run)


def test_a_loss_past_the_bound_for_the_window_stops_and_keeps_the_checkpoint_from_before(tmp_path):
    run, go = _run(tmp_path, lambda s: 1.0 if s < 8 else 1e6, diverge_window=4)
    with pytest.raises(TrainingDiverged, match=r"loss stayed above 10000 .*steps 8-11.*\(step 5, written before"):
        go()
    assert checkpoint.load(run.checkpoint)["step"] == 5   # the periodic one due at step 10 was not written


def test_a_short_spike_passes_and_the_postponed_checkpoint_follows(tmp_path):
    run, go = _run(tmp_path, lambda s: -5e4 if 9 <= s <= 11 else 1.0, diverge_window=4)
    summary = go()
    assert summary["step"] == 30
    steps = [r["step"] for r in run.read_stats()]
    assert steps == list(range(1, 31))
    assert checkpoint.load(run.checkpoint)["step"] == 30


def test_bound_zero_turns_the_check_off(tmp_path):
    _, go = _run(tmp_path, lambda s: 1e12, diverge_bound=0.0)
    assert go()["step"] == 30


def test_lr_1e9_exits_2_and_says_why(tmp_path, capsys):
    rc = main(["train", "gan", "--model", "dcgan", "--width", "8", "--steps", "60", "--batch-size", "8",
               "--lr", "1e9", "--precision", "fp32", "--data", "mnist5k", "--no-progress", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "stayed above 10000" in err or "became nan" in err or "became inf" in err
    assert "no checkpoint was written" in err
