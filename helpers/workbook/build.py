"""Make's run of one notebook: `python -m helpers.workbook.build PROFILE NAME FOLDER [--device D]`.

FOLDER (build/<profile>/notebooks) gets NAME.yaml (the profile's parameters, checked, with
`device: D` for a notebook that trains, where make's DEVICE gives one), then
papermill runs notebooks/NAME.ipynb into NAME.running.ipynb, renamed to NAME.ipynb only when
it succeeded; a failed or interrupted run is kept as NAME.failed.ipynb, to read the error, and
never under a name make takes for finished.

- The run is make's whatever the environment inherits: WORKBOOK_NOTEBOOK=NAME and
  WORKBOOK_MAKE=1 are set, and Jupyter's session variables (JPY_SESSION_NAME, ...) removed, so
  that `!make report` typed in a notebook does not name every section after that notebook.
- One run of NAME for PROFILE at a time: a second build of the same profile meets a lock held
  by the first (released by the system when the first ends, however it ends) and stops, saying
  so, instead of racing on NAME.running.ipynb. Ctrl-C or a kill (SIGTERM) stops papermill and
  its kernel and keeps what ran as NAME.failed.ipynb; every training that had finished is in
  the cache, so the next make report reuses it.
- Progress a person can read: while the notebook trains, a line at least every 30 seconds
  (what trains, step of total, time spent and left: helpers.training.progress, through a
  file the kernel appends to, so the executed notebook carries none of it), each line
  prefixed by the notebook's name (`make -j2 report` stays readable); its time at the end.
  `python -m helpers.workbook.build --plan PROFILE FOLDER` reads `make -n`'s commands on its
  input and says what will run and how long each took in the last build.
- Two harmless kernel lines are dropped from papermill's log: ipykernel's "running over TCP
  without encryption" warning, and "KeyboardInterrupt caught in kernel", logged when
  jupyter_client's shutdown_kernel interrupts a finished kernel that is still in a handler.
"""

import contextlib
import fcntl
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from helpers.paths import NOTEBOOKS, ROOT
from helpers.training import progress
from helpers.workbook import profiles, timing

NAME, MAKE = "WORKBOOK_NOTEBOOK", "WORKBOOK_MAKE"  # what helpers.workbook.section reads
# What a Jupyter kernel or server leaves in the environment of a shell started from it
JUPYTER_SESSION = ("JPY_SESSION_NAME", "JPY_PARENT_PID", "JPY_API_TOKEN",
                   "VSCODE_IPYNB_FILE")
DROPPED = ("over TCP without encryption", "KeyboardInterrupt caught in kernel")
JOBS = "WORKBOOK_JOBS"  # helpers.training.workers.JOBS (not imported: numpy is slow to import)
HEARTBEAT = 30.0  # seconds without a progress line before "still running"


class Busy(RuntimeError):
    """Another build holds this notebook's lock."""


def lock(folder: Path, name: str):
    """An open file holding an exclusive lock on FOLDER/.NAME.lock (the caller keeps it open
    while it runs); Busy naming the holder when another process has it."""
    path = folder / f".{name}.lock"
    handle = open(path, "a+")  # noqa: SIM115 (held until the run ends)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise Busy(f"another build is running {name} into {folder} ({holder}); wait for it "
                   f"to finish, or stop it, then run make again") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def environment(name: str) -> dict:
    """This process's environment for make's run of `name`: named by make, no Jupyter session,
    one BLAS thread whatever make's -j or the machine's cores. A notebook keeps both cores
    busy with jobs side by side, each on one thread (helpers.training.workers), so its digits
    never depend on how it was run: `make report` and `make -j2 report` give the same."""
    env = {k: v for k, v in os.environ.items() if k not in JUPYTER_SESSION}
    env.update({NAME: name, MAKE: "1"}, **dict.fromkeys(THREADS, "1"))
    return env


def run(profile: str, name: str, folder: Path, device: str = "") -> int:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        held = lock(folder, name)
    except Busy as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    with held:
        target, running = folder / f"{name}.ipynb", folder / f"{name}.running.ipynb"
        failed, parameters = folder / f"{name}.failed.ipynb", folder / f"{name}.yaml"
        failed.unlink(missing_ok=True)
        try:
            profiles.check_profile(profile)
            text = profiles.yaml.safe_dump(profiles.parameters_for(profile, name, device),
                                           sort_keys=False)
        except (ValueError, FileNotFoundError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        parameters.write_text(text)
        print(f"running {name} ({profile})", flush=True)
        papermill = Path(sys.executable).with_name("papermill")
        command = [str(papermill), "-k", "python3", "--log-level", "WARNING",
                   "--no-progress-bar", "-f", str(parameters), str(NOTEBOOKS / f"{name}.ipynb"),
                   str(running)]
        lines, jobs = folder / f".{name}.progress", folder / f".{name}.jobs"
        lines.write_text("")
        jobs.write_text("")  # each run of jobs' seconds (helpers.training.workers), for plan
        env = {**environment(name), progress.VARIABLE: str(lines), JOBS: str(jobs)}
        watcher = Watcher(name, lines)
        watcher.start()
        before = signal.signal(signal.SIGTERM, _interrupted)  # a kill ends as Ctrl-C does
        try:
            code = _papermill(command, env)
        except KeyboardInterrupt:
            code = 130
        finally:
            signal.signal(signal.SIGTERM, before)
            watcher.stop()
            lines.unlink(missing_ok=True)
        if code == 0:
            os.replace(running, target)
            print(f"[{name}] finished in {progress.clock(watcher.elapsed())}", flush=True)
            return 0
        if running.exists():
            os.replace(running, failed)
        what = "was interrupted" if code == 130 else "failed"
        shown = failed.relative_to(ROOT) if failed.is_relative_to(ROOT) else failed
        print(f"error: notebooks/{name}.ipynb {what}; see {shown}", file=sys.stderr)
        return code


class Watcher(threading.Thread):
    """Prints the kernel's progress lines as they come, "[NAME] ..."; after HEARTBEAT seconds
    without one, "[NAME] still running, ... in"."""

    def __init__(self, name: str, path: Path):
        super().__init__(daemon=True)
        self.name_, self.path, self.offset = name, path, 0
        self.started = self.last = time.monotonic()
        self.done = threading.Event()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def run(self):
        while not self.done.wait(1.0):
            self.poll()
        self.poll()

    def poll(self):
        try:
            with open(self.path) as f:
                f.seek(self.offset)
                new = f.read()
        except OSError:
            return
        complete = new[: new.rfind("\n") + 1]  # whole lines only
        self.offset += len(complete.encode())
        for line in complete.splitlines():
            self.say(line)
        if time.monotonic() - self.last >= HEARTBEAT:
            self.say(f"still running, {progress.clock(self.elapsed())} in")

    def say(self, line: str):
        print(f"[{self.name_}] {line}", flush=True)
        self.last = time.monotonic()

    def stop(self):
        self.done.set()
        self.join(timeout=5)


def plan(profile: str, folder: Path, commands: str) -> str:
    """What `make -n` will run (its commands, in order), with each notebook's time in the
    last build of this profile, or else the reference build's (notebooks/reference.json,
    written by `make reference` on the machine named there), or else no estimate."""
    names = re.findall(r"helpers\.workbook\.build (?!--)\S+ (\S+) ", commands)
    if not names:
        return f"make: every notebook of {profile} is up to date"
    last, reference = timing.times(folder), reference_seconds(profile)
    width = max(map(len, names))
    lines = [f"make will run {len(names)} notebook(s) of {profile}, in this order (under -jN, "
             "some side by side):"]
    for name in names:
        took, ref = last.get(name), reference.get(name)
        lines.append(f"  {name:<{width}}  " + (
            f"took {progress.clock(took)} in the last build" if took is not None else
            f"no earlier build here; about {progress.clock(ref)} in the reference build"
            if ref is not None else "no earlier build of it: no estimate"))
    known = [last.get(n, reference.get(n)) for n in names]
    if any(k is not None for k in known):
        lines.append(f"  about {progress.clock(sum(k for k in known if k is not None))} in all"
                     + ("" if all(k is not None for k in known) else ", for those with an "
                        "estimate"))
    if timing.times(folder):
        with contextlib.redirect_stdout(io.StringIO()) as projected:
            timing.print_projection(folder)
        lines.append(projected.getvalue().rstrip())
    return "\n".join(lines)


def reference_seconds(profile: str) -> dict:
    """{notebook: seconds} of the reference build of `profile` ({} where there is none)."""
    try:
        entry = json.loads((NOTEBOOKS / "reference.json").read_text())["profiles"][profile]
        return {k: float(v) for k, v in entry["seconds"].items() if v is not None}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _papermill(command: list, env: dict) -> int:
    """Run papermill, its log on our stderr without the DROPPED lines; its exit code."""
    process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               bufsize=1)
    try:
        for line in process.stderr:
            if line.strip() and not any(d in line for d in DROPPED):
                sys.stderr.write(line)
                sys.stderr.flush()
        return process.wait()
    except KeyboardInterrupt:  # papermill got the same Ctrl-C (or kill): let it stop its kernel
        try:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--plan"] and len(args) == 3:
        print(plan(args[1], Path(args[2]), sys.stdin.read()), flush=True)
        return 0
    device = ""
    if args[3:4] == ["--device"] and len(args) == 5:
        args, device = args[:3], args[4]
    if len(args) != 3:
        print("usage: python -m helpers.workbook.build PROFILE NOTEBOOK FOLDER [--device DEVICE]",
              file=sys.stderr)
        return 2
    return run(args[0], args[1], Path(args[2]), device)


if __name__ == "__main__":
    sys.exit(main())
