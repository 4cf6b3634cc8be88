"""Builds ``names.csv``, the labelled names of the name_classifier assignment, from faker's per-locale person names.

Run once by whoever changes the data (faker and anyascii are dev dependencies; grading only reads the committed
file)::

    python assignments/name_classifier/data/build_names.py           # writes names.csv
    python assignments/name_classifier/data/build_names.py --check   # exits 1 if names.csv is not what it builds
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import re
import string
import sys
from collections.abc import Iterable
from pathlib import Path

import click
import faker.providers.person
from anyascii import anyascii

NAMES = Path(__file__).resolve().parent / "names.csv"
REBUILD = "python assignments/name_classifier/data/build_names.py"

ALPHABET = frozenset(string.ascii_letters + " .,;'")
"""The assignment's alphabet: a name with any other character is dropped."""
MIN_LENGTH, MAX_LENGTH = 2, 20
CAP = 250
"""At most this many names per class: the first by the SHA-256 of the name."""
MIN_CLASS = 100
"""A class with fewer names left is not written."""

SOURCES: dict[str, tuple[str, ...]] = {
    "Arabic": ("fr_DZ",),
    "Chinese": ("zh_CN",),
    "Czech": ("cs_CZ",),
    "Dutch": ("nl_NL",),
    "English": ("en_GB",),
    "French": ("fr_FR",),
    "German": ("de_DE",),
    "Greek": ("el_GR",),
    "Irish": ("ga_IE", "en_IE"),
    "Italian": ("it_IT",),
    "Japanese": ("ja_JP",),
    "Korean": ("ko_KR",),
    "Polish": ("pl_PL",),
    "Portuguese": ("pt_PT", "pt_BR"),
    "Russian": ("ru_RU",),
    "Spanish": ("es_ES",),
    "Vietnamese": ("vi_VN",),
}
"""Each nationality's faker locales. Arabic is Algeria's names in Latin script: the ar_* lists are in Arabic script,
which anyascii renders without vowels ("'hmd" for Ahmad). Portugal's lists alone leave too few names that no other
class has, so Brazil's are added."""

ROMANIZED_ONLY = frozenset({"ja_JP"})
"""Locales whose native lists are not used: anyascii reads kanji with their Mandarin readings."""

NAME_LIST = re.compile(r"(?:\w+_)?(?:first|last)_(?:romanized_)?names(?:_\w+)?")
"""A person provider's list of first or last names: ``first_names_female``, ``last_romanized_names``,
``unisex_last_names``. Some are weighted dicts, whose keys are the names."""


def name_lists(locale: str) -> dict[str, Iterable[str]]:
    """Every name list that ``locale``'s person provider defines, by attribute; none of faker's base provider's
    placeholders (John, Jane, Doe) that a locale inherits without overriding."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    mro = provider.__mro__
    own = mro[: mro.index(faker.providers.person.Provider)]
    lists = {attr: value for cls in reversed(own) for attr, value in vars(cls).items() if NAME_LIST.fullmatch(attr)}
    if locale in ROMANIZED_ONLY:
        return {attr: value for attr, value in lists.items() if "romanized" in attr}
    return lists


def ascii_name(native: str) -> str:
    """``native`` in ASCII. Han and Hangul have no letter case, and anyascii capitalises each syllable: such a name
    is capitalised as one word per part (家豪 -> JiaHao -> Jiahao)."""
    name = anyascii(native).strip()
    if not any(ch.isupper() or ch.islower() for ch in native):
        return " ".join(part.capitalize() for part in name.split(" "))
    return name


def usable(name: str) -> bool:
    """Whether ``name`` is made of the alphabet alone and of an allowed length."""
    return MIN_LENGTH <= len(name) <= MAX_LENGTH and set(name) <= ALPHABET


def candidates(locales: Iterable[str]) -> set[str]:
    """The usable ASCII names of ``locales``."""
    names = (ascii_name(n) for locale in locales for values in name_lists(locale).values() for n in values)
    return {name for name in names if usable(name)}


def stable_key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def classes() -> dict[str, list[str]]:
    """Each nationality's names, sorted: no name of two nationalities, at most ``CAP`` each, and only the
    nationalities with at least ``MIN_CLASS`` names."""
    found = {nationality: candidates(locales) for nationality, locales in SOURCES.items()}
    seen: dict[str, int] = {}
    for names in found.values():
        for name in names:
            seen[name] = seen.get(name, 0) + 1
    kept = {nationality: [n for n in names if seen[n] == 1] for nationality, names in found.items()}
    capped = {nationality: sorted(sorted(names, key=stable_key)[:CAP]) for nationality, names in kept.items()}
    return {nationality: names for nationality, names in sorted(capped.items()) if len(names) >= MIN_CLASS}


def build() -> str:
    """The text of ``names.csv``: header ``name,nationality``, sorted by nationality then name."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "nationality"])
    for nationality, names in classes().items():
        writer.writerows([name, nationality] for name in names)
    return out.getvalue()


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 if names.csv differs from what this script builds.")
def main(check: bool) -> None:
    """Write names.csv (or, with --check, compare it)."""
    text = build()
    if not check:
        NAMES.write_bytes(text.encode())
        click.echo(f"{NAMES}: {text.count(chr(10)) - 1} names")
        return
    if not NAMES.is_file() or NAMES.read_bytes() != text.encode():
        click.echo(f"{NAMES}: differs from what build_names.py builds; rebuild it with: {REBUILD}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
