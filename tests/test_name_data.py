"""The name_classifier assignment's names: the committed ``names.csv`` is what its build script makes from the
pinned faker and anyascii, and it keeps the promises the assignment relies on (alphabet, lengths, one nationality per
name, enough balanced classes, a small file)."""

from __future__ import annotations

import csv
import string
from collections import Counter

import pytest
from click.testing import CliRunner
from conftest import ROOT

from grader.student import import_module_from

DATA = ROOT / "assignments" / "name_classifier" / "data"
NAMES = DATA / "names.csv"
ALPHABET = set(string.ascii_letters + " .,;'")


@pytest.fixture(scope="module")
def rows() -> list[tuple[str, str]]:
    with NAMES.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == ["name", "nationality"]
        return [(name, nationality) for name, nationality in reader]


@pytest.fixture(scope="module")
def builder():
    return import_module_from(DATA / "build_names.py")


def test_the_committed_file_is_what_the_script_builds(builder):
    result = CliRunner().invoke(builder.main, ["--check"])
    assert result.exit_code == 0, f"{result.output} {result.stderr}"


def test_check_fails_on_a_stale_file_naming_it_and_the_rebuild(builder, tmp_path, monkeypatch):
    stale = tmp_path / "names.csv"
    stale.write_bytes(NAMES.read_bytes().replace(b"\n", b"\r\n"))
    monkeypatch.setattr(builder, "NAMES", stale)
    result = CliRunner().invoke(builder.main, ["--check"])
    assert result.exit_code == 1
    assert str(stale) in result.stderr and builder.REBUILD in result.stderr
    assert stale.read_bytes() != NAMES.read_bytes(), "--check must not rewrite the file"


def test_rows_are_sorted_by_nationality_then_name(rows):
    assert rows == sorted(rows, key=lambda row: (row[1], row[0]))


def test_every_name_is_in_the_alphabet_and_2_to_20_long(rows):
    bad = [name for name, _ in rows if not (2 <= len(name) <= 20 and set(name) <= ALPHABET)]
    assert not bad


def test_no_name_appears_twice_so_none_has_two_nationalities(rows):
    counts = Counter(name for name, _ in rows)
    assert not [name for name, n in counts.items() if n > 1]


def test_at_least_10_classes_of_100_to_250_names(rows):
    sizes = Counter(nationality for _, nationality in rows)
    assert len(sizes) >= 10
    assert all(100 <= n <= 250 for n in sizes.values()), sizes


def test_the_file_is_under_100_kb():
    assert NAMES.stat().st_size < 100_000
