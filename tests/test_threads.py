"""--threads (issue 26): one flag on every command that computes, one default rule, the count a run
used in sessions.jsonl (training runs and backtests)."""
import argparse
import json

import numpy as np
import pandas as pd
import pytest
import torch

import ganforge
from ganforge.cli import NO_COMPUTE, build_parser, main
from ganforge.engine.runtime import use_threads

# The commands the issue names; every other command that computes must have the flag too (below).
NAMED = ["train gan", "train cyclegan", "train sr", "train classifier", "train forecaster", "backtest", "sample",
         "translate", "upscale", "eval", "forecast", "serve"]


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def leaves(parser, name=""):
    """(command words, parser) of every runnable command."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [(name, parser)]
    return [leaf for a in subs for child, p in a.choices.items() for leaf in leaves(p, f"{name} {child}".strip())]


def test_every_command_that_computes_has_threads():
    commands = dict(leaves(build_parser()))
    assert set(NAMED) <= set(commands)
    missing = [n for n, p in commands.items() if n.split()[0] not in NO_COMPUTE
               and "--threads" not in p._option_string_actions
               and not ("--threads" in p.format_help() and any(a.nargs == argparse.REMAINDER for a in p._actions))]
    assert not missing, missing
    for name in NAMED:   # one help text: the rule is stated wherever the flag is
        assert "under torchrun each of the N processes" in " ".join(commands[name].format_help().split())


def test_the_default_rule(monkeypatch, restore_threads):
    torch.set_num_threads(1)
    assert use_threads(0, env={}) == 1                   # one process: torch's own default stays
    assert use_threads(0, env={"LOCAL_WORLD_SIZE": "1"}) == 1
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert use_threads(0, env={"LOCAL_WORLD_SIZE": "2"}) == 4      # torchrun: the CPUs shared out
    assert use_threads(0, env={"LOCAL_WORLD_SIZE": "16"}) == 1     # never 0
    assert use_threads(3, env={"LOCAL_WORLD_SIZE": "2"}) == 3      # the flag wins


def test_a_command_applies_the_flag(tmp_path, restore_threads, capsys):
    torch.set_num_threads(1)
    run = ganforge.train("classifier", data="mnist5k", image_size=8, channels=1, width=2, batch_size=8, steps=1,
                         eval_every=0, progress=False, out=str(tmp_path / "runs"), threads=2)
    session = json.loads((run / "sessions.jsonl").read_text().splitlines()[-1])
    assert session["threads"] == 2 and torch.get_num_threads() == 2
    torch.set_num_threads(1)
    assert main(["eval", str(run), "--threads", "2"]) == 0
    assert torch.get_num_threads() == 2


def test_backtest_records_its_threads(tmp_path, restore_threads):
    t = np.arange(100)
    pd.DataFrame({"day": pd.date_range("2021-01-01", periods=100).strftime("%Y-%m-%d"),
                  "y": np.sin(t / 3)}).to_csv(tmp_path / "s.csv", index=False)
    assert main(["backtest", "--csv", str(tmp_path / "s.csv"), "--column", "y", "--folds", "2", "--window", "6",
                 "--hidden", "4", "--epochs", "1", "--batch-size", "16", "--no-progress", "--threads", "1",
                 "--out", str(tmp_path / "runs")]) == 0
    session = json.loads(next((tmp_path / "runs").glob("backtest-*/sessions.jsonl")).read_text())
    assert session["threads"] == 1 and session["folds"] == 2
