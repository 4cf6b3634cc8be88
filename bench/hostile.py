"""Benchmark of hostile submissions: what each one costs the grader, in time and memory.

Every folder of ``tests/submissions/redteam*/`` (the eight classic attacks and issue 11's ``redteam_boundary``
cases: stalls, reply bombs, a slow import that exits, the neighbours' attacker and witness, the forbidden routes to
autograd and torch's recurrent ops, honest self-checks) is graded by ``grader run --format json`` in a fresh process,
as an instructor runs it, and so is each forbidden route once more with torch reached through a name no reading can
pin (``torch.`` written ``_T.`` between the module's ``# ROUTE`` markers, as tests/test_redteam_cli_boundary.py
grades it). For each: the wall time of the command, the peak resident memory of the grader's own process (VmHWM,
sampled) and the peak of its whole tree's memory (the grader, its sandbox, the zygote and the workers, summed as
proportional set sizes so that the torch the workers share with the zygote counts once; sampled), and the score.
A fresh ``python -c "import torch"`` is timed first, for scale. Figures, not assertions.

Usage: ``.venv/bin/python bench/hostile.py [-k SUBSTRING] [--time-limit SECONDS]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
ROUTE = re.compile(r"(# ROUTE\n)(.*?)(# END ROUTE)", re.S)
TIME_LIMITS = {"slow_import_exit": 5.0}
"""Seconds per test for the cases that need more than ``--time-limit`` (its import alone takes 3 s)."""


def disguised(source: str) -> str | None:
    """``source`` with ``torch.`` written ``_T.`` in its route; None for a module without a route naming torch."""
    match = ROUTE.search(source)
    if match is None or not re.search(r"\btorch\.", match.group(2)):
        return None
    return source[: match.start(2)] + re.sub(r"\btorch\.", "_T.", match.group(2)) + source[match.end(2) :]


def cases(scratch: Path) -> dict[str, Path]:
    """Every hostile submission folder by name, and the disguised twin of each forbidden route (in ``scratch``)."""
    found = {}
    for folder in sorted(p for p in SUBMISSIONS.glob("redteam*/*") if p.is_dir()):
        found[f"{folder.parent.name}/{folder.name}"] = folder
        for module in folder.glob("*.py"):
            hidden = disguised(module.read_text(encoding="utf-8"))
            if hidden is not None:
                twin = scratch / f"{folder.name}-disguised"
                twin.mkdir()
                (twin / module.name).write_text(hidden, encoding="utf-8")
                found[f"{folder.parent.name}/{twin.name}"] = twin
    return found


def vm_hwm(pid: int) -> int:
    """The peak resident memory of process ``pid`` so far, in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss(pid: int, rss_kib: int) -> int:
    """The proportional set size of process ``pid`` in KiB (a page shared by n processes counts 1/n in each: the
    workers share the zygote's torch), or ``rss_kib`` where the kernel does not tell."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return rss_kib


def tree_rss(root: int) -> int:
    """The memory of process ``root`` and all its descendants now (the sandbox, zygote and workers included: they
    are visible from outside their PID namespace), summed as proportional set sizes, in KiB."""
    parent, rss = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            parent[int(entry)], rss[int(entry)] = int(fields[1]), int(fields[21]) * PAGE_KIB
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, ppid in parent.items() if ppid in frontier and pid not in tree]
        tree.update(children)
        frontier = children
    return sum(pss(pid, rss.get(pid, 0)) for pid in tree)


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, int]:
    """Run ``command`` (output discarded): wall seconds, exit code, the peak RSS of its own process and the peak
    of its whole tree's summed PSS (sampled), both in MiB."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    own = tree = 0
    while process.poll() is None:
        own, tree = max(own, vm_hwm(process.pid)), max(tree, tree_rss(process.pid))
        time.sleep(0.02)
    return time.perf_counter() - start, process.returncode, own // 1024, tree // 1024


def score(report: Path) -> str:
    """``score / max`` of a JSON report, or why there is none."""
    if not report.exists():
        return "no report"
    data = json.loads(report.read_text(encoding="utf-8"))
    return f"{data['score']:g} / {data['max_score']:g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only the cases whose name holds this")
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds per test (default 2)")
    args = parser.parse_args()
    torch_seconds, _, torch_rss, _ = measure([sys.executable, "-c", "import torch"])
    print(f'fresh python -c "import torch": {torch_seconds:.2f} s, {torch_rss} MiB (for scale)')
    print(f"{'submission':<54} {'wall s':>7} {'grader MiB':>10} {'tree MiB':>9}  score  (exit code)")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        env = os.environ | {"TMPDIR": tmp}
        for name, folder in cases(scratch).items():
            if args.k not in name:
                continue
            report = scratch / "report.json"
            report.unlink(missing_ok=True)
            limit = TIME_LIMITS.get(folder.name, args.time_limit)
            command = [sys.executable, "-m", "grader", "run", str(folder), "--format", "json", "-o", str(report)]
            seconds, code, own, tree = measure([*command, "--time-limit", f"{limit:g}"], env)
            print(f"{name:<54} {seconds:7.1f} {own:10d} {tree:9d}  {score(report)}  ({code})")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    print(f"CPU time of the commands' own processes (not of their sandboxes, which they do not wait for): {cpu:.0f} s")


if __name__ == "__main__":
    main()
