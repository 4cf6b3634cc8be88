"""Warm workers: submissions forked from one zygote never see each other's files, processes, IPC or keys, and no
worker changes what later workers inherit from the zygote (its limits, priority, scheduling, CPUs)."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.limits import Limits
from grader.sandbox.bubblewrap import bwrap_problem
from grader.sandbox.inside.protocol import CallFunction, Returned
from grader.sandbox.outcome import Outcome
from grader.sandbox.seccomp import filter_problem
from grader.sandbox.worker_client import WorkerClient
from grader.sandbox.zygote_client import ZYGOTES, ZygoteClient

needs_bwrap = pytest.mark.skipif(bwrap_problem() is not None, reason=f"needs bubblewrap: {bwrap_problem()}")
needs_filter = pytest.mark.skipif(filter_problem() is not None, reason=f"needs seccomp: {filter_problem()}")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="workers have a user of their own only when run as root")

SPY = '''
import ctypes, errno, os, resource, subprocess, sys, time

libc = ctypes.CDLL(None, use_errno=True)
ADD_KEY, REQUEST_KEY, KEYCTL, MQ_OPEN, CLONE, CLONE3, IOPRIO_SET = 248, 249, 250, 240, 56, 435, 251  # x86_64
PTRACE, PTRACE_ATTACH = 101, 16
KEYCTL_GET_PERSISTENT, KEY_SPEC_USER_KEYRING, KEY_SPEC_PROCESS_KEYRING = 22, -4, -2
CLONE_NEWUSER, O_CREAT, O_RDWR = 0x10000000, 0o100, 2


def outcome(call):
    """"done", or the name of the error the call failed with."""
    try:
        result = call()
    except OSError as error:
        return errno.errorcode[error.errno]
    if isinstance(result, int) and result == -1:
        return errno.errorcode[ctypes.get_errno()]
    return "done"


def plant():
    """Leave everything a later submission could find; what the sandbox refused to hold."""
    with open("/tmp/secret.txt", "w") as f:
        f.write("answers of student A")
    os.makedirs("/tmp/locked/inner")
    open("/tmp/locked/inner/file", "w").close()
    os.chmod("/tmp/locked/inner", 0)
    os.chmod("/tmp/locked", 0o500)
    with open(__file__.replace("spy.py", "left_behind.py"), "w") as f:
        f.write("x = 1")
    queue = libc.syscall(MQ_OPEN, b"grader-spy", O_CREAT | O_RDWR, 0o600, None)
    open("/dev/mqueue/grader-spy-file", "x").close()
    planted = {
        "segment": libc.shmget(0x5EC7E7, 4096, 0o1666),  # IPC_CREAT | 0666
        "queue": libc.msgget(0x5EC7E8, 0o1666),
        "semaphore": libc.semget(0x5EC7E9, 1, 0o1666),
        "posix queue": queue,
        "daemon": subprocess.Popen(
            [sys.executable, "-c", "import os, time; os.setsid(); time.sleep(600)"], start_new_session=True
        ).pid,
    }
    refused = {
        "user key": outcome(lambda: libc.syscall(ADD_KEY, b"user", b"grader-spy", b"secret", 6, KEY_SPEC_USER_KEYRING)),
        "persistent keyring": outcome(
            lambda: libc.syscall(KEYCTL, KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_PROCESS_KEYRING)
        ),
    }
    return {"planted": planted, "refused": refused}


def inherited():
    """What this worker got from its zygote that another process could have changed."""
    limits = {n: resource.getrlimit(getattr(resource, n)) for n in dir(resource) if n.startswith("RLIMIT_")}
    del limits["RLIMIT_CPU"]  # set by the worker itself for each call
    return [limits, os.getpriority(os.PRIO_PROCESS, 0), os.sched_getscheduler(0), sorted(os.sched_getaffinity(0))]


def zygote_state():
    """The zygote's own limits, nice value, scheduling and CPUs, as any process may read them."""
    zygote = os.getppid()
    limits = open(f"/proc/{zygote}/limits").read()
    return [
        limits, os.getpriority(os.PRIO_PROCESS, zygote), os.sched_getscheduler(zygote),
        sorted(os.sched_getaffinity(zygote)),
    ]


def look():
    """What this submission can find of an earlier one."""
    found = {}
    found["tmp"] = sorted(os.listdir("/tmp"))
    found["submission"] = sorted(os.listdir(os.path.dirname(__file__)))
    found["shm"] = open("/proc/sysvipc/shm").read().splitlines()[1:]
    found["msg"] = open("/proc/sysvipc/msg").read().splitlines()[1:]
    found["sem"] = open("/proc/sysvipc/sem").read().splitlines()[1:]
    found["mqueue"] = sorted(os.listdir("/dev/mqueue"))
    found["posix queue"] = outcome(lambda: libc.syscall(MQ_OPEN, b"grader-spy", O_RDWR, 0, None))
    found["processes"] = sorted(
        open(f"/proc/{p}/cmdline").read().replace("\\0", " ") for p in os.listdir("/proc") if p.isdigit()
        and int(p) not in (1, os.getpid(), os.getppid())
    )
    found["key"] = outcome(lambda: libc.syscall(REQUEST_KEY, b"user", b"grader-spy", None, 0))
    found["persistent keyring"] = outcome(
        lambda: libc.syscall(KEYCTL, KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_PROCESS_KEYRING)
    )
    found["inherited"] = inherited()
    found["zygote"] = zygote_state()
    return found


def attack(target):
    """Try to change what the next worker inherits from process ``target`` (0: the zygote)."""
    target = target or os.getppid()
    cpus = os.sched_getaffinity(target)
    return {
        "RLIMIT_FSIZE": outcome(lambda: resource.prlimit(target, resource.RLIMIT_FSIZE, (0, 0))),
        "RLIMIT_AS": outcome(lambda: resource.prlimit(target, resource.RLIMIT_AS, (1 << 26, 1 << 26))),
        "RLIMIT_NOFILE": outcome(lambda: resource.prlimit(target, resource.RLIMIT_NOFILE, (4, 4))),
        "nice": outcome(lambda: os.setpriority(os.PRIO_PROCESS, target, 19)),
        "nice of the user": outcome(lambda: os.setpriority(os.PRIO_USER, 0, 19)),
        "affinity": outcome(lambda: os.sched_setaffinity(target, {min(cpus)})),
        "scheduler": outcome(lambda: os.sched_setscheduler(target, os.SCHED_IDLE, os.sched_param(0))),
        "io priority": outcome(lambda: libc.syscall(IOPRIO_SET, 1, target, 3 << 13)),  # IOPRIO_CLASS_IDLE
    }


def attack_a_child():
    """The same on a process of this worker's own user: only the system-call filter stops that."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        return attack(child.pid)
    finally:
        child.kill()
        child.wait()


def change_itself():
    """What a worker may still do to itself (pid 0)."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    os.nice(1)
    os.sched_setaffinity(0, os.sched_getaffinity(0))
    return "changed"


def signal_and_trace():
    zygote = os.getppid()
    return {
        "kill": outcome(lambda: os.kill(zygote, 0)),
        "ptrace": outcome(lambda: libc.syscall(PTRACE, PTRACE_ATTACH, zygote, 0, 0)),
    }


def user_namespaces():
    def clone():
        pid = libc.syscall(CLONE, CLONE_NEWUSER | 17, 0, 0, 0, 0)  # | SIGCHLD
        if pid == 0:
            os._exit(0)
        return pid

    return {
        "unshare": outcome(lambda: libc.unshare(CLONE_NEWUSER)),
        "clone": outcome(clone),
        "clone3": outcome(lambda: libc.syscall(CLONE3, None, 0)),
        "unshare -U": subprocess.run(["unshare", "-U", "true"], capture_output=True).returncode,
    }


def status(pid):
    lines = open(f"/proc/{pid}/status").read().splitlines()
    return dict(line.split(":\\t", 1) for line in lines if ":\\t" in line)


def credentials():
    own, zygote = status("self"), status(os.getppid())
    return {
        "uids": os.getresuid(),
        "gids": os.getresgid(),
        "groups": os.getgroups(),
        "capabilities": {k: v.strip() for k, v in own.items() if k.startswith("Cap")},
        "no new privileges": own["NoNewPrivs"].strip(),
        "seccomp": own["Seccomp"].strip(),
        "zygote uid": int(zygote["Uid"].split()[0]),
    }


def zygote_pid():
    return os.getppid()


def signal_zygote(number):
    return outcome(lambda: os.kill(os.getppid(), number))
'''

REFUSED = {
    "RLIMIT_FSIZE": "EPERM",
    "RLIMIT_AS": "EPERM",
    "RLIMIT_NOFILE": "EPERM",
    "nice": "EPERM",
    "nice of the user": "EPERM",
    "affinity": "EPERM",
    "scheduler": "EPERM",
    "io priority": "EPERM",
}


def ask(worker: WorkerClient, function: str, *args: object) -> Outcome:
    request = CallFunction(module="spy", function=function, args=list(args), cpu_seconds=10.0, watch=False)
    return worker.ask(request, timeout=30.0)


def call(worker: WorkerClient, function: str, *args: object) -> object:
    outcome = ask(worker, function, *args)
    assert isinstance(outcome.reply, Returned), outcome
    return outcome.reply.value


def sandbox(limits: Limits | None = None) -> WorkerClient:
    return WorkerClient({"spy": SPY}, {}, limits or Limits())


def one_call(function: str, *args: object, limits: Limits | None = None) -> object:
    """``function``'s value in a submission of its own."""
    submission = sandbox(limits)
    try:
        return call(submission, function, *args)
    finally:
        submission.close()


@needs_bwrap
def test_a_submission_finds_nothing_of_the_one_before() -> None:
    first = sandbox()
    before = call(first, "look")
    planted = call(first, "plant")
    assert isinstance(planted, dict) and all(value not in (-1, None) for value in planted["planted"].values())
    assert planted["refused"] == {"user key": "EPERM", "persistent keyring": "EPERM"}
    zygote = first.zygote
    assert zygote is not None
    process = zygote.process
    first.close()
    second = sandbox()
    found = call(second, "look")
    second.close()
    assert zygote.process is process and zygote.alive, f"the warm zygote was not reused: {zygote.retired}"
    assert found == before
    assert isinstance(found, dict) and "submission" in found["tmp"] and "secret.txt" not in found["tmp"]
    assert [found[k] for k in ("submission", "shm", "msg", "sem", "mqueue", "processes")] == [["spy.py"], *[[]] * 5]
    assert [found[k] for k in ("posix queue", "key", "persistent keyring")] == ["ENOENT", "EPERM", "EPERM"]


@needs_bwrap
def test_a_worker_cannot_change_what_later_workers_inherit() -> None:
    first = sandbox()
    before = call(first, "look")
    zygote = first.zygote
    assert zygote is not None
    process = zygote.process
    first.close()
    assert one_call("attack", 0) == REFUSED
    second = sandbox()
    after = call(second, "look")
    second.close()
    assert zygote.process is process and zygote.alive, f"the zygote was replaced: {zygote.retired}"
    assert isinstance(before, dict) and isinstance(after, dict)
    assert (after["inherited"], after["zygote"]) == (before["inherited"], before["zygote"])


@needs_bwrap
@needs_filter
def test_a_worker_changes_no_other_process_of_its_user_but_itself() -> None:
    assert one_call("attack_a_child") == REFUSED
    assert one_call("change_itself") == "changed"


@needs_bwrap
@needs_filter
def test_no_worker_creates_a_user_namespace() -> None:
    assert one_call("user_namespaces") == {"unshare": "EPERM", "clone": "EPERM", "clone3": "ENOSYS", "unshare -U": 1}


@needs_bwrap
@as_root
def test_as_root_a_worker_is_a_user_of_its_own_without_privileges() -> None:
    found = one_call("credentials")
    assert isinstance(found, dict)
    uid = found["uids"][0]
    assert found["uids"] == found["gids"] == (uid,) * 3 and found["groups"] == []
    assert uid not in (0, found["zygote uid"])
    assert found["capabilities"] == dict.fromkeys(("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), "0" * 16)
    assert (found["no new privileges"], found["seccomp"]) == ("1", "2")
    assert one_call("signal_and_trace") == {"kill": "EPERM", "ptrace": "EPERM"}


@needs_filter
def test_without_bubblewrap_a_worker_cannot_change_its_zygote(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("grader.sandbox.bubblewrap.bwrap_problem", lambda: "bubblewrap switched off for this test")
    limits = Limits(tmp_bytes=Limits().tmp_bytes + 1)  # its own zygotes in the pool
    try:
        before = one_call("inherited", limits=limits)
        assert one_call("attack", 0, limits=limits) == REFUSED
        assert one_call("inherited", limits=limits) == before
    finally:
        ZYGOTES.close()


def zygote_process(zygote: ZygoteClient) -> int:
    """The host pid of ``zygote``'s Python process (below bubblewrap's, when it runs in one; no worker is running)."""
    assert zygote.process is not None
    parents = {}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit():
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    for pid in parents:
        ancestor = pid
        while ancestor in parents and ancestor != zygote.process.pid:
            ancestor = parents[ancestor]
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if ancestor == zygote.process.pid and command[0] == sys.executable.encode() and b"-I" in command:
                return pid
    raise AssertionError("no zygote process")


def change_from_outside(zygote: ZygoteClient) -> list[str]:
    """Make the limits, priority, scheduling and CPUs of ``zygote`` worse from the grader's side; what changed."""
    pid = zygote_process(zygote)
    if os.geteuid() == 0:  # root may lack CAP_SYS_RESOURCE (it does in some containers): change limits as the zygote
        ids = dict(line.split()[:2] for line in Path(f"/proc/{pid}/status").read_text().splitlines() if "id:" in line)
        as_its_user = ["setpriv", f"--reuid={ids['Uid:']}", f"--regid={ids['Gid:']}", "--clear-groups"]
        subprocess.run([*as_its_user, "prlimit", f"--pid={pid}", "--fsize=0:0"], check=True)
    else:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, 0))
    changes = ["RLIMIT_FSIZE", "scheduling"]
    os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
    nice = os.getpriority(os.PRIO_PROCESS, pid)
    if nice < 19 or os.geteuid() == 0:  # only root may lower it
        os.setpriority(os.PRIO_PROCESS, pid, 19 if nice < 19 else 18)
        changes.append("nice")
    cpus = os.sched_getaffinity(pid)
    if len(cpus) > 1:
        os.sched_setaffinity(pid, {min(cpus)})
        changes.append("CPUs")
    return changes


@pytest.mark.slow
def test_a_zygote_whose_inheritance_changed_is_replaced_before_the_next_fork() -> None:
    first = sandbox()
    before = call(first, "look")
    zygote = first.zygote
    first.close()
    assert zygote is not None
    old = zygote_process(zygote)
    changes = change_from_outside(zygote)
    second = sandbox()
    after = call(second, "look")
    assert second.zygote is zygote and zygote.alive and zygote_process(zygote) != old
    second.close()
    assert zygote.retired is not None and zygote.retired.startswith("it asked to be replaced")
    assert all(change in zygote.retired for change in changes), zygote.retired
    assert isinstance(before, dict) and isinstance(after, dict)
    assert (after["inherited"], after["zygote"]) == (before["inherited"], before["zygote"])


@needs_bwrap
@pytest.mark.parametrize("number", [9, 19], ids=["kill", "stop"])
def test_a_worker_that_signals_its_zygote_costs_only_its_own_submission(number: int) -> None:
    hostile = sandbox()
    call(hostile, "zygote_pid")
    zygote = hostile.zygote
    outcome = ask(hostile, "signal_zygote", number)  # its reply or its death, whichever comes first
    if isinstance(outcome.reply, Returned):
        assert outcome.reply.value == ("EPERM" if os.geteuid() == 0 else "done")
    start = time.monotonic()
    hostile.close()  # a killed or stopped zygote cannot clean up: it is replaced
    assert time.monotonic() - start < 30
    assert zygote is not None and zygote.alive == (os.geteuid() == 0)
    honest = sandbox()
    assert call(honest, "look")["processes"] == []
    honest.close()


@needs_bwrap
def test_idle_zygotes_are_closed_with_the_pool() -> None:
    used = sandbox()
    call(used, "zygote_pid")
    zygote = used.zygote
    used.close()
    ZYGOTES.close()
    assert zygote is not None and not zygote.alive


def collapse_works() -> bool:
    """Whether this kernel turns a process's own memory into huge pages on request (``MADV_COLLAPSE``)."""
    import ctypes
    import mmap

    from grader.sandbox.inside.zygote import HUGE_PAGE, MADV_COLLAPSE

    region = mmap.mmap(-1, 2 * HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    region.write(b"x" * len(region))
    start = ctypes.addressof(ctypes.c_char.from_buffer(region))
    aligned = -(-start // HUGE_PAGE) * HUGE_PAGE
    libc = ctypes.CDLL(None, use_errno=True)
    works = libc.madvise(ctypes.c_void_p(aligned), ctypes.c_size_t(HUGE_PAGE), MADV_COLLAPSE) == 0
    return works


def test_the_zygote_is_in_huge_pages_where_the_kernel_allows() -> None:
    from grader.sandbox.inside.zygote import HUGE_PAGE, huge_page_spans

    starts = list(huge_page_spans())
    assert starts and all(start % HUGE_PAGE == 0 for start in starts)
    if not collapse_works():
        pytest.skip("this kernel has no MADV_COLLAPSE: the zygote keeps small pages")
    worker = sandbox()
    call(worker, "zygote_pid")
    assert worker.zygote is not None
    rollup = Path(f"/proc/{zygote_process(worker.zygote)}/smaps_rollup").read_text()
    worker.close()
    huge = int(rollup.split("AnonHugePages:")[1].split()[0])
    assert huge >= 32 * 1024, rollup  # kB: most of torch's heap, which every fork would copy page by page
