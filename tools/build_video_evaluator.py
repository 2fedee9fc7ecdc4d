"""Rebuild src/ganforge/data/builtin/c3d-tiny-moving-mnist5k.pt, the tiny 3D conv net whose features
give `ganforge eval` its clip-FD for video GANs on moving mnist5k (src/ganforge/metrics/video.py).

    .venv/bin/python tools/build_video_evaluator.py          # a few minutes on one CPU core

It trains ClipNet on moving-mnist clips of the mnist5k training digits (4,000 clips of 16 frames,
32x32; fresh trajectories every epoch) to name the digit and to track its centroid, prints its
accuracy and tracking error on the held-out digits' clips and the clip-FD of held-out, static,
shuffled and digit-free clips, and keeps only the config and the weights (fp16, well under 1 MB).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ganforge.data import to_float  # noqa: E402
from ganforge.data.video import moving_digits  # noqa: E402
from ganforge.metrics import video as V  # noqa: E402

DEST = ROOT / "src/ganforge/data/builtin/c3d-tiny-moving-mnist5k.pt"
TRACK_WEIGHT = 4.0   # the tracking loss (mean squared error about 0.01 once learnt) next to cross-entropy


def evaluate(net: V.ClipNet, clips, labels) -> dict:
    with torch.no_grad():
        out = [net(to_float(c)) for c in clips.split(250)]
    logits, track = torch.cat([o["logits"] for o in out]), torch.cat([o["track"] for o in out])
    err = (track - V.track_targets(clips)).abs()
    t = clips.shape[1]
    return {"acc": (logits.argmax(1) == labels).float().mean().item(),
            "centroid_px": err[:, :2 * t].mean().item() * clips.shape[-1] / 2,     # units -> pixels
            "step_px": err[:, 2 * t:].mean().item() * clips.shape[-1] / 2 / V.STEP_SCALE}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--out", default=str(DEST))
    p.add_argument("--check-only", action="store_true", help="print the distances of the existing --out, train nothing")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.check_only:
        return check(Path(args.out))
    torch.manual_seed(0)
    t, c, h, _ = V.CLIP_SHAPE
    net = V.ClipNet(frames=t)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    test = moving_digits("test", t, h, 1, seed=1000)
    start = time.time()
    for epoch in range(args.epochs):
        data = moving_digits("train", t, h, 1, seed=100 + epoch)   # new trajectories every epoch
        order = torch.randperm(len(data.images))
        net.train()
        for idx in order.split(args.batch_size):
            clips = data.images[idx]
            out = net(to_float(clips))
            loss = F.cross_entropy(out["logits"], data.labels[idx]) + \
                TRACK_WEIGHT * F.mse_loss(out["track"], V.track_targets(clips))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        net.eval()
        m = evaluate(net, test.images, test.labels)
        print(f"epoch {epoch + 1}/{args.epochs}  loss {loss.item():.3f}  held-out: digit accuracy {m['acc']:.3f}, "
              f"centroid error {m['centroid_px']:.2f} px, step error {m['step_px']:.2f} px  ({time.time() - start:.0f} s)",
              flush=True)
    blob = {"config": {"frames": t, "width": net.width, "feat": net.feat, "classes": net.classes},
            "state": {k: v.half() for k, v in net.state_dict().items()},
            "metrics": {k: round(v, 4) for k, v in m.items()}}
    torch.save(blob, args.out)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e3:.0f} kB)")
    check(Path(args.out))


def check(out: Path) -> None:
    """The clip-FD of 500 held-out, static, shuffled and digit-free clips, with the saved weights."""
    t, c, h, _ = V.CLIP_SHAPE
    net = V.load_net(str(out))
    ref = V.clip_features(moving_digits("train", t, h, 1, seed=0, n=V.REFERENCE_CLIPS).images, net)
    held = moving_digits("test", t, h, 1, seed=1000, n=500).images
    print(f"held-out digit accuracy and tracking error at build time: {torch.load(out, weights_only=True)['metrics']}")
    rows = {"held-out real": held, "static": V.static_clips(held), "shuffled": V.shuffled_clips(held),
            "drifting boxes (no digit)": V.drifting_boxes(500, t, h)}
    print(f"{V.NAME} of 500 clips vs {V.REFERENCE_CLIPS} training clips:")
    for name, clips in rows.items():
        print(f"  {name:<28} {V.clip_distance(V.clip_features(clips, net), ref):.2f}")


if __name__ == "__main__":
    main()
