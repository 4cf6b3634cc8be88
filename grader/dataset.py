"""An assignment's labelled dataset (``[dataset]`` in its assignment.toml), split once for the course.

The file is the course's: a CSV whose first column is an example's input and second its label. Each example goes to
the test part when a hash of the course's secret and its input falls below ``test_fraction``: the split is the same
on every run and for every student of the course, a new seed draws a new one, and no test input is ever a training
input (duplicates go to the same side). Each part is in an order drawn by the secret too, never the file's (sorted
by label, it would tell a model the labels of names sent in that order). Tests send the training part into the
sandbox with its labels and the test part without: :attr:`Dataset.test_labels` is read only here, in the grader's
process.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from grader.spec import DatasetSpec, SpecError

MAX_BYTES = 64 << 20
"""The largest dataset file read (the course's own, but a wrong path must not load a disk image)."""


@dataclass(frozen=True)
class Dataset:
    """The two parts of a labelled dataset; labels are indices into :attr:`classes` (sorted names)."""

    classes: tuple[str, ...]
    train_inputs: tuple[str, ...]
    train_labels: tuple[int, ...]
    test_inputs: tuple[str, ...]
    test_labels: tuple[int, ...]


def draw(secret: str, purpose: str, item: str) -> int:
    """A number in [0, 2^64) that ``secret`` draws for ``item``, for ``purpose``."""
    digest = hashlib.blake2b(f"{secret}\0{purpose}\0{item}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def held_out(secret: str, item: str, fraction: float) -> bool:
    """Whether ``item`` is in the test part of the split that ``secret`` draws."""
    return draw(secret, "split", item) < fraction * 2**64


def read_rows(path: Path) -> list[tuple[str, str]]:
    """The (input, label) rows of ``path``; a :class:`SpecError` naming the file and the line when it is not such a
    CSV."""
    if not path.is_file():
        raise SpecError(f"{path}: no such dataset file; [dataset] file names a CSV in the assignment's folder")
    if path.stat().st_size > MAX_BYTES:
        raise SpecError(f"{path}: larger than {MAX_BYTES >> 20} MiB; a dataset the tests train on must be small")
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    if len(rows) < 3:
        raise SpecError(f"{path}: needs a header and at least two rows of input,label")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 2 or not row[0] or not row[1]:
            raise SpecError(f"{path}, line {number}: expected two non-empty columns, input and label; got {row!r}")
    return [(row[0], row[1]) for row in rows[1:]]


@functools.cache
def load(folder: Path, spec: DatasetSpec, secret: str) -> Dataset:
    """The dataset of an assignment's ``folder``, split by ``secret`` (read once per process)."""
    path = folder / spec.file
    rows = read_rows(path)
    classes = tuple(sorted({label for _, label in rows}))
    index = {label: i for i, label in enumerate(classes)}
    shuffled = sorted(rows, key=lambda row: (draw(secret, "order", row[0]), row))
    train: list[tuple[str, int]] = []
    test: list[tuple[str, int]] = []
    for x, y in shuffled:
        (test if held_out(secret, x, spec.test_fraction) else train).append((x, index[y]))
    if not train or not test:
        raise SpecError(f"{path}: the split left one part empty; change [dataset] test_fraction")
    return Dataset(
        classes=classes,
        train_inputs=tuple(x for x, _ in train),
        train_labels=tuple(y for _, y in train),
        test_inputs=tuple(x for x, _ in test),
        test_labels=tuple(y for _, y in test),
    )


def training_csv(folder: Path, spec: DatasetSpec, secret: str) -> str:
    """The training part as a CSV with the file's own header: what a student bundle ships (never the test part)."""
    with (folder / spec.file).open(encoding="utf-8", newline="") as file:
        header = next(csv.reader(file))
    data = load(folder, spec, secret)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows((x, data.classes[y]) for x, y in zip(data.train_inputs, data.train_labels, strict=True))
    return out.getvalue()


def training_file(spec: DatasetSpec) -> str:
    """Where a student bundle has the training part, in the assignment's folder: ``data/names.csv`` ships as
    ``data/names_train.csv``."""
    path = Path(spec.file)
    return (path.parent / f"{path.stem}_train{path.suffix}").as_posix()
