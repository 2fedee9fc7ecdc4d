"""Lists a user reads are built from the registries, so none can leave a model or a dataset out:
`train TASK --help`, `ganforge datasets`, the `presets` table, and LAPGAN's labelled level panel."""
import numpy as np
import pytest
from PIL import Image

from ganforge import config as C, models
from ganforge.cli import main
from ganforge.commands.train import KINDS
from ganforge.data import datasets, paired, unpaired, video
from ganforge.data.catalog import names_for

EVERY_DATASET = [*datasets.NAMED, paired.PHOTOS, *video.SPECS, unpaired.EMBEDDED, *unpaired.REMOTE, "folder:PATH",
                 "packed:DIR", "synthetic:CxHxW", "PATH_A,PATH_B"]


def _help(argv, capsys) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())   # argparse wraps lines: compare words


@pytest.mark.parametrize("task", list(C.TASKS))
def test_train_help_names_every_registered_model_and_dataset(task, capsys):
    text = _help(["train", task], capsys)
    kind, flag = KINDS[task]
    names = [e.name for e in models.entries(kind)]
    assert names and all(n in text for n in names), (task, [n for n in names if n not in text])
    assert all(d in text for d in names_for(task)), [d for d in names_for(task) if d not in text]


def test_train_gan_help_names_lapgan_and_videogan(capsys):
    text = _help(["train", "gan"], capsys)
    assert "lapgan" in text and "videogan" in text and "moving-mnist" in text and "videos:PATH" in text


def test_datasets_lists_every_dataset(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    listed = {line.split()[0] for line in out.splitlines()[2:]}
    assert set(EVERY_DATASET) <= listed, set(EVERY_DATASET) - listed
    assert {"moving-mnist", "videos:PATH", "photo2vintage", "horse2zebra"} <= listed


def test_presets_table_columns_line_up(capsys):
    from ganforge.config.presets import PRESETS

    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows, flags = lines[0::2], lines[1::2]
    assert len(rows) == len(PRESETS) and "videogan-digits" in PRESETS
    starts = {r.index(" " + "/".join(p["models"]) + " ") for r, p in zip(rows, PRESETS.values())}
    summaries = {r.index(p["summary"]) for r, p in zip(rows, PRESETS.values())}
    assert len(starts) == 1 and len(summaries) == 1, rows
    assert {len(f) - len(f.lstrip()) for f in flags} == summaries


def test_lapgan_level_rows_are_labelled(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["train", "gan", "--model", "lapgan", "--data", "synthetic:1x28x28:16", "--width", "4",
                 "--latent-dim", "4", "--batch-size", "8", "--steps", "1", "--no-progress", "--sample-every", "0",
                 "--out", str(out)]) == 0
    assert main(["sample", str(out / "gan-0001"), "--show-levels", "-n", "3", "-o", str(tmp_path / "l.png")]) == 0
    img = np.asarray(Image.open(tmp_path / "l.png").convert("L"))
    plain = (3 * 30 + 2) * 2
    margin = img.shape[1] - plain
    assert margin > 10 and np.all(img[:, margin:margin + 4] == 255)   # the panel's own white border
    for r in range(3):   # text in the margin beside each of the 3 level rows
        band = img[(2 + 30 * r) * 2:(30 + 30 * r) * 2, :margin]
        assert (band < 128).sum() > 10, r
