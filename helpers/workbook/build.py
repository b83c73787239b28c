"""Make's run of one notebook: `python -m helpers.workbook.build PROFILE NAME FOLDER`.

FOLDER (build/<profile>/notebooks) gets NAME.yaml (the profile's parameters, checked), then
papermill runs notebooks/NAME.ipynb into NAME.running.ipynb, renamed to NAME.ipynb only when
it succeeded; a failed or interrupted run is kept as NAME.failed.ipynb, to read the error, and
never under a name make takes for finished.

- The run is make's whatever the environment inherits: WORKBOOK_NOTEBOOK=NAME and
  WORKBOOK_MAKE=1 are set, and Jupyter's session variables (JPY_SESSION_NAME, ...) removed, so
  that `!make report` typed in a notebook does not name every section after that notebook.
- One run of NAME for PROFILE at a time: a second build of the same profile meets a lock held
  by the first (released by the system when the first ends, however it ends) and stops, saying
  so, instead of racing on NAME.running.ipynb.
- Two harmless kernel lines are dropped from papermill's log: ipykernel's "running over TCP
  without encryption" warning, and "KeyboardInterrupt caught in kernel", logged when
  jupyter_client's shutdown_kernel interrupts a finished kernel that is still in a handler.
"""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from helpers.paths import NOTEBOOKS, ROOT
from helpers.workbook import profiles

NAME, MAKE = "WORKBOOK_NOTEBOOK", "WORKBOOK_MAKE"  # what helpers.workbook.section reads
# What a Jupyter kernel or server leaves in the environment of a shell started from it
JUPYTER_SESSION = ("JPY_SESSION_NAME", "JPY_PARENT_PID", "JPY_API_TOKEN",
                   "VSCODE_IPYNB_FILE")
DROPPED = ("over TCP without encryption", "KeyboardInterrupt caught in kernel")


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


def environment(name: str) -> dict:
    """This process's environment for make's run of `name`: named by make, no Jupyter session."""
    env = {k: v for k, v in os.environ.items() if k not in JUPYTER_SESSION}
    env.update({NAME: name, MAKE: "1"})
    return env


def run(profile: str, name: str, folder: Path) -> int:
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
            text = profiles.yaml.safe_dump(profiles.parameters_for(profile, name),
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
        try:
            code = _papermill(command, environment(name))
        except KeyboardInterrupt:
            code = 130
        if code == 0:
            os.replace(running, target)
            return 0
        if running.exists():
            os.replace(running, failed)
        what = "was interrupted" if code == 130 else "failed"
        shown = failed.relative_to(ROOT) if failed.is_relative_to(ROOT) else failed
        print(f"error: notebooks/{name}.ipynb {what}; see {shown}", file=sys.stderr)
        return code


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
    except KeyboardInterrupt:  # papermill got the same Ctrl-C: let it stop its kernel
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m helpers.workbook.build PROFILE NOTEBOOK FOLDER", file=sys.stderr)
        return 2
    return run(args[0], args[1], Path(args[2]))


if __name__ == "__main__":
    sys.exit(main())
