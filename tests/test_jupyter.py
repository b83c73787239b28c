"""The notebook kernel `dd2424-a2`: registered inside this clone's .venv, and usable through
a Jupyter server (what `make lab` starts) to run code with this clone's Python and helpers.

Jupyter runs as `python -m jupyter` with the Python running the tests (`make test`: .venv's).
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]  # this clone
VENV_BIN = ROOT / ".venv" / "bin"
KERNEL = "dd2424-a2"
WAIT_S = 90  # the longest a server or a kernel may take to answer (the cores are shared)


def _same_dir(a: Path, b: Path) -> bool:
    """a and b are one folder (the interpreter itself is a link: compare its folder)."""
    return a.resolve() == b.resolve()


def _jupyter(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True,
                          text=True, check=True, timeout=WAIT_S, **kwargs)


def test_the_kernel_is_this_clones_venv_python():
    specs = json.loads(_jupyter("kernelspec", "list", "--json").stdout)["kernelspecs"]
    assert KERNEL in specs, f"no kernel {KERNEL} ({sorted(specs)}): run make setup"
    spec = specs[KERNEL]
    argv0 = Path(spec["spec"]["argv"][0])
    assert argv0.is_absolute() and argv0.name.startswith("python"), spec["spec"]["argv"]
    assert _same_dir(argv0.parent, VENV_BIN), f"{KERNEL} runs {argv0}, not {VENV_BIN}/python"
    assert _same_dir(argv0.parent, Path(sys.executable).parent), (argv0, sys.executable)
    resource = Path(spec["resource_dir"]).resolve()
    assert resource.is_relative_to((ROOT / ".venv").resolve()), (
        f"{KERNEL} is found at {resource}, not inside .venv (make setup registers it with "
        "--sys-prefix; a --user copy would be shared by every clone)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """A Jupyter server on 127.0.0.1 with a random port and token, working in `folder`."""

    def __init__(self, folder: Path):
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.log = folder / "server.log"
        root = ["--allow-root"] if os.geteuid() == 0 else []
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(folder / "runtime")}
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1",
                 f"--port={self.port}", "--port-retries=0", f"--ServerApp.root_dir={folder}",
                 f"--IdentityProvider.token={self.token}", *root],
                cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy

    def api(self, path: str, method: str = "GET", body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}"})
        with self.opener.open(request, timeout=WAIT_S) as response:
            text = response.read()
        return json.loads(text) if text else None

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + WAIT_S
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                self.api("status")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the Jupyter server did not answer:\n{self.log.read_text()}")

    def stop(self) -> None:
        """Ask the server to shut down (it stops its kernels); terminate, then kill, if not."""
        if self.proc.poll() is None:
            try:
                self.api("shutdown", "POST")
                self.proc.wait(timeout=WAIT_S)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=WAIT_S)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()


def _execute(ws, code: str) -> str:
    """Run `code` in the kernel behind websocket `ws`; its stdout (error if it failed)."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                   "session": uuid.uuid4().hex, "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
    out = []
    while True:
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        elif msg["msg_type"] == "execute_reply":
            assert msg["content"]["status"] == "ok", msg["content"]
            return "".join(out)


@pytest.mark.slow
def test_a_jupyter_server_runs_code_in_the_kernel(tmp_path):
    pytest.importorskip("jupyter_server", reason="jupyter_server is not installed (make setup)")
    import websocket  # websocket-client: jupyter_server depends on it

    server = _Server(tmp_path)
    try:
        server.wait_until_up()
        specs = server.api("kernelspecs")["kernelspecs"]
        assert KERNEL in specs, f"the server does not list {KERNEL}: {sorted(specs)}"
        kernel = server.api("kernels", "POST", {"name": KERNEL})
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}/api/kernels/{kernel['id']}/channels",
            header=[f"Authorization: token {server.token}"], timeout=WAIT_S)
        try:
            out = _execute(ws, "import os, sys, helpers.model.network\n"
                               "print(sys.executable, helpers.model.network.__file__, os.getcwd(), "
                               "sep='\\n')")
        finally:
            ws.close()
        executable, module, cwd = out.split("\n")[:3]
        assert _same_dir(Path(executable).parent, VENV_BIN), executable
        assert Path(module).resolve() == ROOT / "helpers" / "model" / "network.py"
        assert Path(cwd).resolve() == tmp_path.resolve()
        server.api(f"kernels/{kernel['id']}", "DELETE")
        assert server.api("kernels") == []
    finally:
        server.stop()
    assert server.proc.returncode is not None
