"""Every dataset a `--data` flag accepts, gathered from the loaders' own tables (datasets.DESCRIPTIONS,
video.SPECS, unpaired.EMBEDDED / REMOTE, paired.PHOTOS) so that `ganforge datasets` and the help of
`train TASK --data` cannot leave one out."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    name: str                 # what --data takes
    tasks: tuple[str, ...]    # the `train` sub-commands that read it
    status: str               # embedded, cached, not downloaded, local, generated
    description: str


FORMS = {   # spec -> (tasks, status, description): data the user brings, or generates
    "folder:PATH": (("gan", "classifier", "sr", "cyclegan"), "local",
                    "any folder of images (sub-folders become classes; cyclegan: trainA/ trainB/ inside)"),
    "PATH_A,PATH_B": (("cyclegan",), "local", "two folders of images, one per domain"),
    "packed:DIR": (("gan", "classifier", "sr", "cyclegan"), "local",
                   "a folder packed by `ganforge datasets pack`, memory-mapped"),
    "synthetic:CxHxW": (("gan", "sr"), "generated", "random images, for smoke tests and benchmarks"),
}


def catalog() -> list[Dataset]:
    from . import datasets, download, paired, unpaired, video

    rows = [Dataset(n, ("gan", "classifier", "sr"), datasets.status(n), datasets.DESCRIPTIONS[n]) for n in datasets.NAMED]
    rows.append(Dataset(paired.PHOTOS, ("sr",), "embedded", "the shipped CC0 photos at their own sizes "
                                                            "(train: left three quarters; held out: the rest)"))
    rows += [Dataset(spec, ("gan",), status, f"videogan: {desc}") for spec, (status, desc) in video.SPECS.items()]
    rows.append(Dataset(unpaired.EMBEDDED, ("cyclegan",), "embedded",
                        "the shipped photos (X) and the same under a fixed colour grade (Y), truth known"))
    cache = download.cache_dir() / "cyclegan"
    rows += [Dataset(n, ("cyclegan",), "cached" if (cache / n).is_dir() else "not downloaded",
                     "a CycleGAN dataset from the authors' server (downloaded on first use)") for n in unpaired.REMOTE]
    rows += [Dataset(spec, tasks, status, desc) for spec, (tasks, status, desc) in FORMS.items()]
    return rows


def names_for(task: str) -> list[str]:
    """The --data values `train TASK` takes."""
    return [d.name for d in catalog() if task in d.tasks]
