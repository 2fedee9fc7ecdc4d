"""Checkpoints written before the family-hooks refactor (tools/make_old_checkpoints.py, one per task
and GAN family, family flags at the config's top level) load and give the outputs stored beside them."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import torch

import ganforge

ROOT = Path(__file__).resolve().parents[1]
OLD = ROOT / "tests" / "data" / "old"
_spec = importlib.util.spec_from_file_location("make_old_checkpoints", ROOT / "tools" / "make_old_checkpoints.py")
maker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(maker)


def test_every_case_is_stored():
    assert sorted(p.stem for p in OLD.glob("*.pt") if not p.name.endswith(".out.pt")) == sorted(maker.CASES)


@pytest.mark.parametrize("name", sorted(maker.CASES))
def test_old_checkpoint_gives_its_stored_outputs(name):
    task = maker.CASES[name][0]
    model = ganforge.load(OLD / f"{name}.pt")
    expected = torch.load(OLD / f"{name}.out.pt", weights_only=True)
    got = maker.outputs(model, task)
    assert set(got) == set(expected)
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=0, atol=1e-5, msg=f"{name}: {key}")


def test_old_videogan_glides_as_it_was_trained():
    # --motion came later with "bounce" as its default; a checkpoint without it keeps "glide"
    assert ganforge.load(OLD / "gan-videogan.pt").net.motion == "glide"


def test_old_infogan_config_keeps_family_flags_at_the_top():
    ckpt = torch.load(OLD / "gan-infogan.pt", weights_only=True)
    assert ckpt["config"]["cat_codes"] == 4 and ckpt["config"]["info_warp"] == 0.5


@pytest.mark.parametrize("name", ["gan-infogan", "gan-videogan"])
def test_old_gan_checkpoint_resumes(name, tmp_path):
    run = tmp_path / "runs" / "gan-0001"
    run.mkdir(parents=True)
    shutil.copy(OLD / f"{name}.pt", run / "checkpoint.pt")
    ganforge.train("gan", resume=run, steps=3, progress=False)
    assert ganforge.load(run / "checkpoint.pt").step == 3
