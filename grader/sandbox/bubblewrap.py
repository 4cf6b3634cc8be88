"""How the sandbox is built on this machine: bubblewrap's command line, the worker's environment, and the words a
report uses for the isolation a worker had (:class:`Isolation`)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

from grader.escape import clean_text
from grader.limits import Limits
from grader.sandbox.seccomp import filter_problem

PACKAGE_DIR = Path(__file__).resolve().parent.parent
"""The ``grader`` package: of it, the sandbox sees only ``sandbox/inside`` and the two package markers."""


class Isolation(BaseModel):
    """How a worker was isolated, in words a report can print."""

    level: str
    details: list[str]

    def describe(self) -> str:
        return f"{self.level}: {'; '.join(self.details)}"


@functools.cache
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot be used here, or None when it works."""
    path = shutil.which("bwrap")
    if path is None:
        return "bwrap is not installed (apt-get install bubblewrap)"
    probe = [path, *namespace_flags(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    result = subprocess.run([*probe, "--mqueue", "/dev/mqueue", "true"], capture_output=True, timeout=30)
    if result.returncode != 0:
        return f"bwrap cannot create namespaces here: {clean_text(result.stderr, 300).strip()}"
    return None


@functools.cache
def bwrap_disables_userns() -> bool:
    """Whether bubblewrap can forbid user namespaces inside its own here (``--disable-userns``: bubblewrap 0.8, and
    a kernel that lets it)."""
    probe = [shutil.which("bwrap") or "bwrap", "--unshare-user", "--disable-userns", "--ro-bind", "/", "/", "true"]
    return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0


def namespace_flags() -> list[str]:
    """As root, a worker cannot create a user namespace because of :func:`worker_filter`; without root, bubblewrap's
    own user namespace also forbids nested ones where it can."""
    user = [] if os.geteuid() == 0 else ["--unshare-user", *(["--disable-userns"] if bwrap_disables_userns() else [])]
    return [
        *user,
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
    ]


ZYGOTE_CAPS = ("setuid", "setgid", "setpcap")
"""What the zygote keeps as root: setuid/setgid to make each worker another user (and to act as it while cleaning
up: signalling and deleting what is the worker's needs no CAP_KILL or CAP_FOWNER then), setpcap only to empty the
worker's bounding set. Its workers have none of them."""


def bind_readonly(path: str) -> list[str]:
    """``--ro-bind path path`` with every ancestor created world-traversable (bwrap copies 0700 otherwise)."""
    parents = list(reversed(Path(path).parents))[1:]
    return [arg for parent in parents for arg in ("--perms", "0755", "--dir", str(parent))] + ["--ro-bind", path, path]


def python_roots() -> list[str]:
    """The folders the worker's Python needs: the installation and the environment holding torch."""
    roots = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    roots.add(os.path.realpath(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))))
    roots.add(sys.prefix)
    return sorted(r for r in roots if not any(r != o and r.startswith(o + os.sep) for o in roots))


def bwrap_command(uid: int, limits: Limits) -> list[str]:
    """bwrap's arguments: an empty root, then the private /tmp (first, so that binds below it stay visible when
    the Python environment itself lives under /tmp), the system, Python and, of the grader, only what runs
    inside. As root the zygote runs as ``uid`` with only the capabilities it needs to make each worker another
    user (:data:`ZYGOTE_CAPS`)."""
    args = [shutil.which("bwrap") or "bwrap", *namespace_flags(), "--tmpfs", "/"]
    args += ["--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    args += ["--mqueue", "/dev/mqueue"]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "lib", "lib64", "sbin"):
        host = Path("/") / top
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    for etc in ("/etc/ld.so.cache", "/etc/localtime"):
        args += ["--ro-bind-try", etc, etc]
    for root in python_roots():
        if not root.startswith("/usr/"):
            args += bind_readonly(root)
    args += ["--perms", "0755", "--dir", "/opt/grader/grader/sandbox"]
    for inside in ("__init__.py", "sandbox/__init__.py", "sandbox/inside"):
        args += ["--ro-bind", str(PACKAGE_DIR / inside), f"/opt/grader/grader/{inside}"]
    args += ["--chdir", "/tmp", "--hostname", "sandbox"]
    if os.geteuid() == 0:
        caps = "-all," + ",".join(f"+{cap}" for cap in ZYGOTE_CAPS)
        args += [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            f"--inh-caps={caps}",
            f"--ambient-caps={caps}",
            f"--bounding-set={caps}",
            "--no-new-privs",
        ]
    return args


def clean_environment() -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's (no tokens, no keys)."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }


def isolation(limits: Limits) -> Isolation:
    """How the workers of a sandbox with ``limits`` are isolated here."""
    mib = limits.memory_bytes >> 20
    described = (
        f"limits: {mib} MiB address space, CPU and wall time per test, files up to "
        f"{limits.max_file_bytes >> 20} MiB, output capped, clean environment"
    )
    problem = bwrap_problem()
    own_user = problem is None and os.geteuid() == 0
    fresh = (
        "a fresh worker per submission, forked from one that imported torch, which is replaced when its limits, "
        "priority, scheduling or CPUs are not those it started with"
    )
    if problem is None:
        user = (
            f"each worker an unprivileged uid of its own, not the zygote's, no capabilities, "
            f"at most {limits.max_processes} processes"
            if own_user
            else "one user namespace for the zygote and its workers (process count not capped: not run as root)"
        )
        return Isolation(
            level="bubblewrap",
            details=[
                "separate process, no network, own PID/IPC/UTS namespaces",
                "read-only system and Python, private /tmp, no view of tests or reference",
                user,
                filter_detail(own_user),
                f"{fresh}; between submissions every process of the sandbox is killed and /tmp, System V IPC and "
                "POSIX message queues are wiped",
                described,
            ],
        )
    return Isolation(
        level="process",
        details=[
            f"separate process without namespaces ({problem})",
            "the worker could read files the grader's user can read, and has network access",
            filter_detail(own_user),
            f"{fresh}; processes and IPC objects a worker leaves are not removed",
            described,
        ],
    )


def filter_detail(own_user: bool) -> str:
    """What :func:`worker_filter` holds here, in words; ``own_user``: workers are not the zygote's user."""
    problem = filter_problem()
    if problem is None:
        return (
            "a system-call filter: a worker changes the limits, priority, scheduling and CPUs of no other process, "
            "creates no user namespace and reaches no keyring"
        )
    zygote = "" if own_user else ", and change the zygote's limits, priority, scheduling and CPUs (it is replaced)"
    return f"no system-call filter ({problem}): a worker can create user namespaces and use keyrings{zygote}"
