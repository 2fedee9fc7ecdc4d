"""CNN classifiers: registry shapes, a few real training steps, checkpoints, features, eval."""
import numpy as np
import pytest
import torch

from ganforge import config as C
from ganforge import models
from ganforge.api import load
from ganforge.cli import main
from ganforge.data import ImageData
from ganforge.nn import checkpoint
from ganforge.tasks.classifier import ClassifierObjective, accuracy_report, confusion
from ganforge.engine.loop import RunDir, fit


@pytest.mark.parametrize("name", [e.name for e in models.entries("classifier")])
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_classifier_shapes(name, shape):
    net = models.create(name, in_channels=shape[0], image_size=shape[1], num_classes=7, width=4)
    x = torch.randn(2, *shape)
    maps = net.forward_stages(x)
    assert [m.shape[-1] for m in maps] == [shape[1] // 2, shape[1] // 4, shape[1] // 8]
    feats = net.forward_head(net.forward_features(x), pre_logits=True)
    assert feats.shape == (2, net.num_features)
    assert net(x).shape == (2, 7) and torch.isfinite(net(x)).all()


def test_too_small_image_is_a_user_error():
    from ganforge.errors import UserError
    with pytest.raises(UserError, match="at least 8 px"):
        models.create("cnn-small", image_size=4)


def bars(n, seed):
    """Two classes of 8x8 uint8 images: a horizontal or a vertical bright bar on noise."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 60, (n, 1, 8, 8), generator=g, dtype=torch.uint8)
    y = torch.arange(n) % 2
    pos = torch.randint(1, 7, (n,), generator=g)
    for i in range(n):
        if y[i]:
            x[i, 0, :, pos[i]] = 255
        else:
            x[i, 0, pos[i], :] = 255
    return ImageData("bars", x, y, ["horizontal", "vertical"])


def test_training_learns_and_checkpoint_rebuilds(tmp_path):
    cfg = C.resolve(C.ClassifierConfig, steps=40, batch_size=32, eval_every=20, lr=3e-3, progress=False,
                    out=str(tmp_path), width=4)
    obj = ClassifierObjective(cfg, data=(bars(256, 0), bars(64, 1)))
    run = RunDir.create(cfg.out, "classifier")
    summary = fit(obj, run)
    assert summary["val_acc"] >= 0.95 and summary["best_val_acc"] >= summary["val_acc"] - 1e-9
    assert (run.path / "confusion.png").is_file() and (run.path / "best.pt").is_file()
    assert {"acc/horizontal", "acc/vertical"} <= set(summary)
    clf = load(run.path / "checkpoint.pt", "classifier")
    val = bars(64, 1)
    from ganforge.data import to_float
    assert (clf.predict(to_float(val.images)) == val.labels).float().mean().item() == pytest.approx(summary["val_acc"])
    assert clf.features(to_float(val.images)).shape == (64, clf.net.num_features)
    assert len(clf.feature_maps(to_float(val.images[0]))) == 3


def test_confusion_and_per_class_accuracy():
    labels, pred = torch.tensor([0, 0, 1, 1, 2]), torch.tensor([0, 1, 1, 1, 0])
    assert confusion(pred, labels, 3).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    logits = torch.nn.functional.one_hot(pred, 3).float() * 10
    r = accuracy_report(logits, labels, ["a", "b", "c"])
    assert r["accuracy"] == pytest.approx(0.6) and r["acc/a"] == 0.5 and r["acc/b"] == 1 and r["acc/c"] == 0


def test_embedded_evaluator_accuracy_and_cli_features_eval(capsys):
    from ganforge.metrics.extractors import EMBEDDED
    ckpt = checkpoint.load(EMBEDDED, "classifier")
    assert EMBEDDED.stat().st_size < 1_000_000 and ckpt["metrics"]["val_acc"] >= 0.97
    assert main(["eval", str(EMBEDDED), "--num", "300"]) == 0
    out = capsys.readouterr().out
    acc = float(next(ln for ln in out.splitlines() if ln.strip().startswith("accuracy")).split()[-1])
    assert acc >= 0.95
    assert main(["features", str(EMBEDDED), "--index", "3", "-o", "maps.png", "--maps", "4"]) == 0
    out = capsys.readouterr().out
    assert "stage 1: 16 maps of 14x14" in out and "stage 3: 64 maps of 3x3" in out
    from PIL import Image
    Image.fromarray(np.zeros((40, 30), np.uint8)).save("digit.png")
    assert main(["features", str(EMBEDDED), "digit.png", "-o", "maps2.png"]) == 0
    assert main(["features", str(EMBEDDED), "--index", "3", "-o", "one.png", "--maps", "1"]) == 0   # one column
    assert Image.open("one.png").size[0] > 0


def test_cli_train_classifier_on_folder(tmp_path, capsys):
    from PIL import Image
    data = bars(40, 3)
    for i, (img, y) in enumerate(zip(data.images, data.labels)):
        d = tmp_path / "imgs" / data.classes[y]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img[0].numpy()).save(d / f"{i}.png")
    argv = ["train", "classifier", "--data", f"folder:{tmp_path / 'imgs'}", "--image-size", "8", "--channels", "1",
            "--steps", "4", "--batch-size", "8", "--width", "2", "--no-progress", "--eval-every", "2"]
    assert main(argv) == 0
    assert "val_acc" in capsys.readouterr().out
    assert (tmp_path / "runs" / "classifier-0001" / "confusion.png").is_file()


@pytest.mark.parametrize("argv,msg", [
    (["features", "nothing.pt", "x.png"], "does not exist"),
    (["train", "classifier", "--data", "synthetic:1x8x8:64", "--steps", "2"], "no labels"),
    (["train", "classifier", "--model", "dcgan", "--steps", "2"], "unknown classifier model"),
    (["train", "classifier", "--val-fraction", "1.5"], "--val-fraction"),
])
def test_classifier_bad_input(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err
