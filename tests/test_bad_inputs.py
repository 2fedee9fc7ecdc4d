"""Bad inputs against every command (issue 16): each one ends in exit code 2, exactly one `error:`
line and no traceback; in folders the bad files are skipped and the good ones still processed.

BATTERY lists (command, argv, expected text); `python tests/test_bad_inputs.py` prints how many
bad inputs each command is tried with. Paths in argv are relative to the shared fixture folder W.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from ganforge import config as C
from ganforge.cli import main

from bad_input_fixtures import CLF, CYC, GAN, SR, TRAIN_FLAGS, R, W, photo  # noqa: F401 (W: the fixture)


# --------------------------------------------------------------------------- the battery

def _numeric_field_cases():
    """Every numeric field of every training task: nan and inf, and each declared limit crossed."""
    cases = []
    for task, cls in C.TASKS.items():
        hints = typing_hints(cls)
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            if tp not in (int, float):
                continue
            flag = C.flag_name(f.name)
            if tp is float:
                cases += [(f"train {task}", ["train", task, flag, v], flag) for v in ("nan", "inf", "-inf")]
            for k, b in (f.metadata.get("limits") or {}).items():
                step = 1 if tp is int else 0.5
                v = {"gt": b, "ge": b - step, "lt": b, "le": b + step}[k]
                cases.append((f"train {task}", ["train", task, flag, str(v)], flag))
            if f.metadata.get("choices"):
                cases.append((f"train {task}", ["train", task, flag, "7"], flag))
    return cases


def typing_hints(cls):
    from ganforge.config.base import _hints

    return _hints(cls)


BATTERY = [
    # 1. images PIL refuses for safety (decompression bombs), and every other unreadable image
    ("conv", ["conv", "bomb.png"], "decompression bomb"),
    ("conv", ["conv", "text.png"], "cannot read image"),
    ("conv", ["conv", "trunc.png"], "cannot read image"),
    ("conv", ["conv", "dir.png"], "is a folder"),
    ("conv", ["--max-image-pixels", "5000", "conv", "big.png"], "--max-image-pixels 10000"),
    ("features", ["features", R("classifier"), "bomb.png"], "decompression bomb"),
    ("features", ["features", R("classifier"), "text.png"], "cannot read image"),
    ("features", ["features", R("classifier"), "dir.png"], "is a folder"),
    ("translate", ["translate", R("cyclegan"), "bomb.png", "-o", "o.png"], "decompression bomb"),
    ("translate", ["translate", R("cyclegan"), "trunc.png", "-o", "o.png", "--strict"], "cannot read image"),
    ("translate", ["translate", R("cyclegan"), "mixed", "-o", "strict-out", "--strict"], "bomb.png"),
    ("train gan", ["train", "gan", "--data", "folder:mixed", "--strict", "--steps", "1"], "bomb.png"),
    ("train classifier", ["train", "classifier", "--data", "folder:mixed", "--strict", "--steps", "1"], "bomb.png"),
    ("train cyclegan", ["train", "cyclegan", "--data", "mixed,mixed", "--strict", "--steps", "1", *CYC], "bomb.png"),
    # 2. checkpoints that pass the format check but are wrong inside
    *[(cmd, [*argv, f"{task}-{kind}.pt", *rest], msg)
      for task, cmds in {"gan": [("sample", ["sample"], ["-o", "s.png"]), ("eval", ["eval"], ["--num", "4"])],
                         "classifier": [("features", ["features"], ["good.png"]), ("eval", ["eval"], [])],
                         "cyclegan": [("translate", ["translate"], ["good.png", "-o", "t.png"]),
                                      ("export", ["export"], ["-o", "g.onnx"])],
                         "forecaster": [("forecast", ["forecast"], ["-o", "f.csv"])]}.items()
      for cmd, argv, rest in cmds
      for kind, msg in (("shape", "do not fit"), ("nometa", "'meta' entry is missing"),
                        ("noconfig", "'config' entry is missing"), ("emptymeta", "has no"),
                        ("badconfig", "unknown key 'bogus_key'"), ("nanlr", "finite"), ("step", "damaged"),
                        ("metatype", "damaged"))
      if not (cmd == "eval" and kind == "emptymeta" and task == "classifier")],
    *[(f"train {task}", ["train", task, "--resume", f"{task}-{kind}.pt", "--steps", "5"], msg)
      for task in TRAIN_FLAGS
      for kind, msg in (("shape", "do not fit"), ("nometa", "'meta' entry is missing"),
                        ("noconfig", "'config' entry is missing"), ("badconfig", "unknown key 'bogus_key'"))],
    *[(cmd, [*argv, bad, *rest], msg)
      for cmd, argv, rest in (("sample", ["sample"], []), ("translate", ["translate"], ["good.png", "-o", "t.png"]),
                              ("export", ["export"], ["-o", "g.onnx"]), ("features", ["features"], []),
                              ("forecast", ["forecast"], []), ("eval", ["eval"], []),
                              ("train gan", ["train", "gan", "--resume"], []))
      for bad, msg in (("trunc.pt", "not a readable checkpoint"), ("foreign.pt", "not a ganforge checkpoint"),
                       ("text.pt", "not a readable checkpoint"), ("emptydir", "does not exist"),
                       ("missing.pt", "does not exist"))],
    # 3. missing optional dependencies (onnx is hidden by the test below)
    ("export", ["export", R("cyclegan"), "-o", "g.onnx", "--no-onnx"], "pip install 'ganforge[export]'"),
    # 4. files that exist but cannot be read
    *[(f"train {task}", ["train", task, *extra], msg)
      for task in TRAIN_FLAGS
      for extra, msg in ((["--config", "latin1.yaml"], "not UTF-8"), (["--config", "yamldir.yaml"], "cannot read"),
                         (["--config", "list.yaml"], "must hold a mapping"), (["--config", "broken.yaml"], "not valid YAML"),
                         (["--config", "missing.yaml"], "cannot read"), (["--set", "lr=[1,"], "not valid YAML"),
                         (["--set", "lr"], "KEY=VALUE"), (["--set", "nosuchkey=1"], "unknown key"))],
    ("train forecaster", ["train", "forecaster", "--csv", "csvdir.csv"], "csvdir.csv"),
    ("train forecaster", ["train", "forecaster", "--csv", "latin1.csv", "--column", "y"], "latin1.csv"),
    ("forecast", ["forecast", R("forecaster"), "--csv", "csvdir.csv"], "csvdir.csv"),
    ("forecast", ["forecast", R("forecaster"), "--csv", "latin1.csv"], "latin1.csv"),
    ("train gan", ["train", "gan", "--data", "folder:good.png"], "does not exist"),
    # 5. numbers that are not numbers or out of range
    *_numeric_field_cases(),
    *[(f"train {t}", ["train", t, "--set", "lr=.nan"], "--lr must be a finite number") for t in TRAIN_FLAGS],
    ("sample", ["sample", R("gan"), "-n", "0"], "-n must be positive"),
    ("sample", ["sample", R("gan"), "-n", "-3"], "-n must be positive"),
    ("sample", ["sample", R("gan"), "--nrow", "0"], "--nrow"),
    ("sample", ["sample", R("gan"), "--seed", "-1"], "--seed"),
    ("sample", ["sample", R("gan"), "-n", "nan"], "invalid int"),
    ("translate", ["translate", R("cyclegan"), "good.png", "-o", "t.png", "--size", "0"], "--size"),
    ("translate", ["translate", R("cyclegan"), "good.png", "-o", "t.png", "--batch-size", "0"], "--batch-size"),
    ("conv", ["conv", "--size", "0"], "--size"),
    ("conv", ["conv", "--pool-size", "0"], "--pool-size"),
    ("conv", ["conv", "--stride", "-2"], "--stride"),
    ("conv", ["conv", "--kernel", "[[nan,1],[1,1]]"], "kernel"),
    ("features", ["features", R("classifier"), "--maps", "0"], "--maps"),
    ("features", ["features", R("classifier"), "--index", "-1"], "--index"),
    ("forecast", ["forecast", R("forecaster"), "--horizon", "0"], "--horizon"),
    ("forecast", ["forecast", R("forecaster"), "--history", "-5"], "--history"),
    ("eval", ["eval", R("gan"), "--num", "1"], "--num"),
    ("eval", ["eval", R("gan"), "--num", "inf"], "invalid int"),
    # 6. sizes that cannot fit
    ("train gan", ["train", "gan", "--image-size", "100000"], "of memory"),
    ("train gan", ["train", "gan", "--latent-dim", "1000000000"], "of memory"),
    ("train gan", ["train", "gan", "--width", "1000000"], "of memory"),
    ("train gan", ["train", "gan", "--data", "synthetic:3x100000x100000"], "of memory"),
    ("train gan", ["train", "gan", "--batch-size", "1000000000"], "larger than the dataset"),
    ("train classifier", ["train", "classifier", "--image-size", "100000"], "of memory"),
    ("train classifier", ["train", "classifier", "--width", "10000000"], "of memory"),
    ("train cyclegan", ["train", "cyclegan", "--width", "1000000"], "of memory"),
    ("train cyclegan", ["train", "cyclegan", "--load-size", "200000", "--crop-size", "100000"], "of memory"),
    ("train cyclegan", ["train", "cyclegan", "--data", ","], "needs two folders"),
    ("train cyclegan", ["train", "cyclegan", "--data", "mixed,"], "needs two folders"),
    ("train forecaster", ["train", "forecaster", "--hidden", "1000000"], "of memory"),
    ("train forecaster", ["train", "forecaster", "--window", "1000000000"], "too short"),
    ("train forecaster", ["train", "forecaster", "--horizon", "1000000000"], "too short"),
    ("sample", ["sample", R("gan"), "-n", "10000000000"], "--individual"),
    ("sample", ["sample", R("gan"), "--interpolate", "-n", "100000000"], "at most"),
    ("translate", ["translate", R("cyclegan"), "tiny.png", "-o", "t.png"], "at least 8 px"),
    ("train cyclegan", ["train", "cyclegan", "--crop-size", "8", "--load-size", "8"], "--crop-size must be >= 24"),
    ("train forecaster", ["train", "forecaster", "--threads", "100000"], "--threads must be <= 256"),
    # prediction intervals (issue 27)
    ("train forecaster", ["train", "forecaster", "--interval-method", "bootstrap"], "must be one of split, scaled"),
    ("train forecaster", ["train", "forecaster", "--intervals", "0.8,1.5"], "--intervals must be levels in (0, 1)"),
    ("train forecaster", ["train", "forecaster", "--intervals", "0"], "0 is outside (0, 1)"),
    ("train forecaster", ["train", "forecaster", "--interval-gamma", "1"], "--interval-gamma must be < 1"),
    ("backtest", ["backtest", "--interval-method", "quantile"], "--interval-method"),
    ("backtest", ["backtest", "--intervals", "95"], "95 is outside (0, 1)"),
    *([("export", ["export", R("cyclegan"), "-o", "/dev/full"], "the disk is full"),
       ("sample", ["sample", R("gan"), "-o", "/dev/null"], "unknown image type")]
      if Path("/dev/full").is_char_device() else []),
    ("translate", ["translate", R("cyclegan"), "good.png", "-o", "t.png", "--size", "100000"], "--size"),
    ("conv", ["conv", "--size", "100000"], "--size"),
    # 7. output paths
    *[(cmd, [*argv, "-o", target], msg)
      for cmd, argv in (("sample", ["sample", R("gan")]), ("conv", ["conv"]),
                        ("features", ["features", R("classifier")]), ("forecast", ["forecast", R("forecaster")]),
                        ("translate", ["translate", R("cyclegan"), "good.png"]),
                        ("export", ["export", R("cyclegan")]))
      for target, msg in (("afile/out.png", "is a file, not a folder"), ("afile/deeper/out.png", "is a file"),
                          ("emptydir", "folder" if cmd != "translate" else "cannot"))
      if not (cmd == "translate" and target == "emptydir")],
    ("translate", ["translate", R("cyclegan"), "mixed", "-o", "afile"], "is a file, not a folder"),
    # super-resolution (issue 13); an image smaller than the tile is upscaled in one pass (tests/test_srgan.py)
    ("upscale", ["upscale", R("sr"), "good.png", "-o", "u.png", "--scale", "2"], "trained for x4, not x2"),
    ("upscale", ["upscale", R("sr"), "missing.png", "-o", "u.png"], "does not exist"),
    ("upscale", ["upscale", R("sr"), "trunc.png", "-o", "u.png"], "cannot read image"),
    ("upscale", ["upscale", R("sr"), "mixed", "-o", "u-strict", "--strict"], "bomb.png"),
    ("upscale", ["upscale", R("sr"), "mixed", "-o", "afile"], "is a file, not a folder"),
    ("upscale", ["upscale", R("sr"), "good.png", "-o", "u.png", "--tile", "3"], "--tile"),
    ("upscale", ["upscale", R("cyclegan"), "good.png", "-o", "u.png"], "cannot upscale"),
    ("upscale", ["upscale", "missing.pt", "good.png", "-o", "u.png"], "does not exist"),
    ("train sr", ["train", "sr", "--data", "folder:mixed", "--strict", "--crop", "16", "--steps", "1"], "bomb.png"),
    ("train sr", ["train", "sr", "--data", "mnist5k", "--crop", "96", "--steps", "1"], "larger than the smallest"),
    ("train sr", ["train", "sr", "--crop", "30", "--scale", "4"], "multiple of --scale"),
    ("train sr", ["train", "sr", "--init", R("gan"), "--steps", "1", *SR], "needs a sr checkpoint"),
    ("eval", ["eval", R("sr"), "--data", "folder:emptydir"], "holds no images"),
    ("sample", ["sample", R("gan"), "-o", "grid.xyz"], "unknown image type"),
    ("conv", ["conv", "-o", "stages.xyz"], "unknown figure type"),
    ("features", ["features", R("classifier"), "-o", "maps.xyz"], "unknown figure type"),
    ("sample", ["sample", R("gan"), "--individual", "afile"], "is a file"),
    ("conv", ["conv", "--save-arrays", "afile/x.npz"], "is a file"),
    # unknown names and sub-commands
    ("export", ["export", R("gan"), "--format", "bogus", "-o", "g.x"], "invalid choice"),
    ("export", ["export", R("cyclegan"), "-o", "g.safetensors", "--direction", "sideways"], "invalid choice"),
    *[("import", ["import", "cyclegan", *a], m) for a, m in (
        (["missing.pth", "-o", "imp"], "does not exist"), (["text.pt", "-o", "imp"], "not a readable PyTorch file"),
        (["foreign.pt", "-o", "imp"], "unexpected key 'weights'"), ([f"{R('gan')}/checkpoint.pt", "-o", "imp"],
                                                                    "not a state dict of tensors"),
        (["foreign.pt"], "-o"), (["foreign.pt", "-o", "imp", "--size", "30"], "--size"),
        (["foreign.pt", "-o", "imp", "--generator", "resnet-7"], "invalid choice"))],
    ("import", ["import", "nosuchsource"], "invalid choice"),
    *[("serve", ["serve", *a], m) for a, m in (
        (["missing.pt"], "does not exist"), (["text.pt"], "not a readable checkpoint"),
        ([R("gan"), "--port", "70000"], "--port must be in 1..65535"), ([R("gan"), "--port", "0"], "--port"),
        ([R("gan"), "--max-upload-mb", "0"], "--max-upload-mb"), ([R("gan"), "--max-upload-mb", "nan"], "--max-upload-mb"),
        ([R("gan"), "--runs", "afile"], "is a file"), ([R("gan"), "--port", "x"], "invalid int"))],
    ("datasets", ["datasets", "download", "nosuchset"], "unknown downloadable dataset"),
    ("datasets", ["datasets", "download"], "which dataset"),
    # image data larger than memory (issue 19): packed datasets, streaming flags, `datasets pack`
    *[(f"train {task}", ["train", task, *flags, "--data", data, "--steps", "1"], msg)
      for task, flags in (("gan", GAN[2:]), ("classifier", CLF[2:]))
      for data, msg in (("packed:packed-noshard", "shard images-00000.npy is missing"),
                        ("packed:packed-newer", "format version 99, newer than"),
                        ("packed:emptydir", "not a packed dataset"), ("packed:nosuchdir", "does not exist"))],
    ("train cyclegan", ["train", "cyclegan", "--data", "mixed,packed:packed-noshard", *CYC], "is missing"),
    *[(f"train {task}", ["train", task, flag, value], flag)
      for task in ("gan", "classifier", "cyclegan") for flag, value in (("--workers", "-1"), ("--data-memory", "-2"))],
    ("datasets", ["datasets", "pack", "folder:mixed"], "pack what, where"),
    ("datasets", ["datasets", "pack", "folder:nosuch", "-o", "p-out"], "does not exist"),
    ("datasets", ["datasets", "pack", "folder:mixed", "-o", "afile"], "is a file"),
    ("datasets", ["datasets", "pack", "folder:mixed", "-o", "emptydir/../mixed"], "holds other files"),
    ("datasets", ["datasets", "pack", "folder:mixed", "-o", "p-out", "--size", "0"], "--size"),
    ("datasets", ["datasets", "pack", "folder:mixed", "-o", "p-out", "--workers", "-1"], "--workers"),
    ("datasets", ["datasets", "pack", "folder:mixed", "-o", "p-out", "--strict"], "bomb.png"),
    ("models", ["models", "--kind", "nosuchkind"], "no models of kind"),
    ("presets", ["presets", "nosuch"], "unrecognized arguments"),
    ("train gan", ["train", "gan", "--preset", "nosuch"], "unknown preset"),
    ("train gan", ["train", "gan", "--model", "videogan", "--data", "videos:short", "--frames", "4"], "has 2 frames"),
    ("train gan", ["train", "gan", "--model", "videogan", "--data", "videos:bad.gif"], "bad.gif"),
    ("train gan", ["train", "gan", "--model", "videogan", "--data", "mnist5k"], "trains on clips"),
    ("sample", ["sample", R("gan"), "--show-levels"], "has no levels view"),
    *[("sweep", ["sweep", "gan", *a], m) for a, m in (
        (["--grid", "seed=0"], "--out DIR is required"), (["--out", "sw"], "--grid KEY=V1,V2 is required"),
        (["--grid", "nosuch=1", "--out", "sw"], "unknown key 'nosuch'"),
        (["--grid", "seed=0,x", "--out", "sw"], "seed"), (["--grid", "seed=0", "--out", "sw", "--jobs", "0"], "--jobs"),
        (["--grid", "seed=0", "--out", "afile"], "afile"),
        (["--grid", "seed=0", "--out", "sw", "--bogus"], "unknown train flag '--bogus'"),
        (["--grid", "seed=0", "--out", "sw", "--jobs", "x"], "--jobs"),
        (["--grid", "width=0", "--out", "sw"], "--width"))],
    # issue 26: dates, delimiters and fills of a user's CSV (training, forecast and backtest read alike)
    *[(cmd, [*argv, *extra], msg)
      for cmd, argv in (("train forecaster", ["train", "forecaster", *TRAIN_FLAGS["forecaster"][2:]]),
                        ("backtest", ["backtest", "--column", "y", "--window", "6"]))
      for extra, msg in ((["--csv", "ambiguous.csv"], "ambiguous dates"),
                         (["--csv", "inconsistent.csv"], "inconsistent dates"),
                         (["--csv", "inconsistent.csv", "--date-format", "dayfirst"], "is not a day-first date"),
                         (["--csv", "s.csv", "--date-format", "%d/%m/%Y"], "with --date-format %d/%m/%Y"),
                         (["--csv", "s.csv", "--date-format", "yearfirst"], "--date-format must be"),
                         (["--csv", "semi.csv", "--sep", ","], "pass --sep ';'"),
                         (["--csv", "s.csv", "--sep", "ab"], "--sep must be one delimiter"),
                         (["--csv", "gaps.csv"], "more than --max-fill 5%"),
                         (["--csv", "gaps.csv", "--fill", "interpolate"], "more than --max-fill 5%"),
                         (["--csv", "gaps.csv", "--fill", "ffill", "--max-fill", "1.5"], "--max-fill must be <= 1"))],
    ("forecast", ["forecast", R("forecaster"), "--csv", "ambiguous.csv"], "ambiguous dates"),
    ("forecast", ["forecast", R("forecaster"), "--csv", "gaps.csv"], "more than --max-fill 5%"),
    # backtest: its own flags, a bad CSV and config flag, before any fold trains
    *[("backtest", ["backtest", "--csv", "s.csv", "--column", "y", "--window", "6", *extra], msg)
      for extra, msg in ((["--folds", "1000"], "--folds 1000 leaves 1 test row(s) per fold"),
                         (["--folds", "0"], "--folds must be positive"), (["--fold-size", "-1"], "--fold-size must be"),
                         (["--fold-size", "2"], "--fold-size 2 is too small"),
                         (["--fold-size", "2", "--horizon", "3"], "at least 5 rows"),
                         (["--folds", "50", "--fold-size", "3"], "at most"), (["--cells", "gru"], "--cells"),
                         (["--threads", "-1"], "--threads must be >= 0"), (["--window", "0"], "--window"),
                         (["--csv", "missing.csv"], "does not exist"), (["--column", "nope"], "'nope' is not in"))],
    # --threads on every command that computes (issue 26): the training tasks' come from _numeric_field_cases
    *[(cmd, [*argv, "--threads", value], msg)
      for cmd, argv in (("sample", ["sample", R("gan")]), ("eval", ["eval", R("gan")]),
                        ("translate", ["translate", R("cyclegan"), "good.png", "-o", "t.png"]),
                        ("upscale", ["upscale", R("sr"), "good.png", "-o", "u.png"]),
                        ("forecast", ["forecast", R("forecaster")]), ("serve", ["serve", R("gan")]),
                        ("conv", ["conv"]), ("features", ["features", R("classifier")]),
                        ("export", ["export", R("cyclegan"), "-o", "g.onnx"]))
      for value, msg in (("-1", "--threads must be >= 0, got -1"), ("257", "--threads must be <= 256"),
                         ("two", "invalid int"))],
]


@pytest.fixture(autouse=True)
def _pixel_limit_restored(monkeypatch):
    """`ganforge --max-image-pixels` sets the variable for the process; undo it after each test."""
    monkeypatch.setenv("GANFORGE_MAX_IMAGE_PIXELS", "")


@pytest.fixture
def in_W(W, monkeypatch):
    monkeypatch.chdir(W)
    monkeypatch.setenv("GANFORGE_CACHE", str(W / "cache"))
    return W


def _ids():
    seen = Counter()
    out = []
    for cmd, argv, _ in BATTERY:
        seen[cmd] += 1
        out.append(f"{cmd.replace(' ', '-')}-{seen[cmd]}")
    return out


def one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command,argv,expected", BATTERY, ids=_ids())
def test_bad_input_is_one_error_line_and_exit_2(command, argv, expected, in_W, capsys, monkeypatch):
    argv = list(argv)
    if "--no-onnx" in argv:
        argv.remove("--no-onnx")
        monkeypatch.setitem(sys.modules, "onnx", None)   # `import onnx` now fails as if not installed
    if argv[:1] == ["train"]:
        argv += ["--no-progress"] + ([] if "--resume" in argv else ["--out", str(in_W / "bad-runs")])
    before = {p for p in in_W.rglob("*.tmp")}
    try:
        rc = main(argv)
    except SystemExit as e:   # argparse's own errors (not a number): exit 2 with its usage line
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2, err
    line = one_error_line(err)
    assert expected in line, line
    assert {p for p in in_W.rglob("*.tmp")} == before   # nothing half-written left behind
    assert not Path("/dev/full").exists() or Path("/dev/full").is_char_device()   # a device is written into, never replaced


def battery_counts() -> Counter:
    return Counter(cmd for cmd, _, _ in BATTERY)


def test_every_command_is_tried():
    from ganforge.cli import COMMAND_MODULES, build_parser

    counts = battery_counts()
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = set(sub.choices) - {"train"} | {f"train {t}" for t in C.TASKS}
    missing = sorted(c for c in commands if counts[c] == 0)
    assert not missing, f"no bad inputs tried for: {missing}"
    assert COMMAND_MODULES


# --------------------------------------------------------------------------- folders: skip bad, keep good

def test_translate_folder_skips_bad_files_and_writes_the_good_ones(in_W, capsys):
    assert main(["translate", R("cyclegan"), "mixed", "-o", "out-folder"]) == 0
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err and "error:" not in cap.err
    assert "bomb.png" in cap.err and "text.png" in cap.err
    for name in ("a.png", "b.png", "sub/c.png", "...png"):
        assert Image.open(in_W / "out-folder" / name).size == (40, 40)
    assert "skipped 2 unreadable" in cap.out


@pytest.mark.parametrize("task,data", [("gan", "folder:mixed"), ("cyclegan", "mixed,mixed")])
def test_training_on_a_folder_skips_bad_images(task, data, in_W, capsys):
    extra = ["--image-size", "16", "--channels", "3", "--width", "8", "--latent-dim", "4", "--batch-size", "2"] \
        if task == "gan" else CYC
    assert main(["train", task, "--data", data, "--steps", "1", "--no-progress", "--out", "folder-runs", *extra]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "bomb.png" in err and "text.png" in err


def test_a_genuinely_large_image_passes_with_a_higher_limit(in_W, capsys):
    assert main(["--max-image-pixels", "20000", "conv", "big.png", "-o", "big-stages.png"]) == 0
    assert main(["--max-image-pixels", "0", "conv", "big.png", "-o", "big-stages.png"]) == 0


# --------------------------------------------------------------------------- output paths: symlinks

def test_outputs_replace_a_symlink_never_write_through_it(in_W, capsys):
    outside = in_W / "outside.png"
    photo(outside, (7, 7))
    before = outside.read_bytes()
    (in_W / "link-out").mkdir(exist_ok=True)
    for name in ("a.png", "sub/c.png"):
        link = in_W / "link-out" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(outside)
    assert main(["translate", R("cyclegan"), "mixed", "-o", "link-out"]) == 0
    (in_W / "grid-link.png").unlink(missing_ok=True)
    (in_W / "grid-link.png").symlink_to(outside)
    assert main(["sample", R("gan"), "-n", "4", "-o", "grid-link.png"]) == 0
    assert outside.read_bytes() == before
    for p in (in_W / "link-out" / "a.png", in_W / "link-out" / "sub" / "c.png", in_W / "grid-link.png"):
        assert not p.is_symlink() and Image.open(p).size[0] > 7


def test_sample_individual_streams_in_chunks(in_W, capsys, monkeypatch):
    from ganforge.commands import sample as sample_cmd
    from ganforge.tasks import gan

    monkeypatch.setattr(sample_cmd, "GRID_MAX", 16)
    sizes = []
    real = gan.Generator.iter_samples

    def spy(self, n, seed=None, batch_size=256, *a, **k):
        for chunk in real(self, n, seed, 100, *a, **k):
            sizes.append(len(chunk))
            yield chunk

    monkeypatch.setattr(gan.Generator, "iter_samples", spy)
    assert main(["sample", R("gan"), "-n", "250", "-o", "g.png", "--individual", "many", "--seed", "1"]) == 0
    assert sizes == [100, 100, 50] and len(list((in_W / "many").glob("*.png"))) == 250
    assert "16 images" in capsys.readouterr().out


def test_serve_on_a_port_in_use(in_W, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["serve", R("gan"), "--port", str(s.getsockname()[1])]) == 2
    assert "cannot listen on 127.0.0.1" in one_error_line(capsys.readouterr().err)


# --------------------------------------------------------------------------- optional dependencies

@pytest.mark.parametrize("module", ["onnx", "onnxruntime", "tensorboard", "gradio", "av"])
def test_missing_optional_dependency_names_the_extra(module, monkeypatch):
    from ganforge.errors import UserError
    from ganforge.optional import EXTRAS, require

    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(UserError, match=rf"pip install 'ganforge\[{EXTRAS[module][0]}\]'"):
        require(module)


# --------------------------------------------------------------------------- unreadable by permission

@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
@pytest.mark.parametrize("argv", [["conv", "locked.png"], ["train", "gan", "--config", "locked.yaml"],
                                  ["sample", "locked.pt"]])
def test_unreadable_by_permission(argv, in_W, capsys):
    for name in ("locked.png", "locked.yaml", "locked.pt"):
        p = in_W / name
        p.write_text("x")
        p.chmod(0)
    assert main(argv) == 2
    one_error_line(capsys.readouterr().err)


if __name__ == "__main__":
    counts = battery_counts()
    for cmd, n in sorted(counts.items()):
        print(f"{cmd:<18} {n}")
    print(f"{'total':<18} {sum(counts.values())}")
