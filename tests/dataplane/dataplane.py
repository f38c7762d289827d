#!/usr/bin/env python3
"""Stands in for what the simulated cluster cannot run: the SkyPilot API server and the
ingress-nginx data path in front of it. Pods do not execute on the test control plane, so the
real SkyPilot server (from PyPI) runs as a local process, and a real nginx listens on the
release's node port on 127.0.0.1, checks basic auth with the htpasswd from the release's
`<release>-basic-auth` Secret, and proxies to the server.

  dataplane.py skypilot STATE            start the SkyPilot API server; prints its URL and
                                         the path of the matching `sky` client
  dataplane.py nginx STATE PORT NAMESPACE SECRET UPSTREAM
                                         once the Secret exists, serve PORT with its htpasswd,
                                         and reload it whenever the Secret changes
  dataplane.py watch STATE NAMESPACE SECRET
                                         (started by `nginx`) the reloading, as ingress-nginx's
                                         controller does it: watch the Secret, rewrite the
                                         htpasswd, reload nginx; ends when nginx does
  dataplane.py down STATE                stop both (whole process groups: SkyPilot's workers
                                         outlive SIGTERM)

The SkyPilot virtualenv is cached per user and version, so only the first run installs it.
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "controlplane"))
import controlplane  # noqa: E402  (the API helper and state of the running control plane)

SKYPILOT_VERSION = "0.14.1"
CACHE = Path(os.environ.get("SKYCTL_TEST_CACHE",
                            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "skyctl-test"))


def log(message):
    print(f"dataplane: {message}", file=sys.stderr, flush=True)


def venv():
    """The cached virtualenv with SkyPilot; built on first use. The marker is written last, so
    an interrupted install is redone rather than used."""
    path = CACHE / f"skypilot-{SKYPILOT_VERSION}"
    installed = path / ".installed"
    if installed.exists():
        return path
    log(f"installing skypilot {SKYPILOT_VERSION} into {path}")
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    subprocess.run([str(path / "bin" / "pip"), "install", "-q", f"skypilot=={SKYPILOT_VERSION}"], check=True)
    installed.touch()
    return path


def sky_env(home):
    """SkyPilot keeps its state in HOME; each run gets its own, and sends no usage data."""
    env = dict(os.environ, HOME=str(home), SKYPILOT_DISABLE_USAGE_COLLECTION="1",
               SKYPILOT_DEBUG="0", PYTHONUNBUFFERED="1")
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(state, name, args, env=None):
    log_file = open(state / f"{name}.log", "ab")
    proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=env, cwd=state)
    (state / f"{name}.pid").write_text(str(proc.pid))
    return proc


def wait_for(what, check, proc, timeout, state, log_name):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "".join((state / f"{log_name}.log").read_text(errors="replace").splitlines(True)[-20:])
            raise SystemExit(f"dataplane: {what} exited with code {proc.returncode}; its log ends:\n{tail}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"dataplane: {what} not ready after {timeout}s; see {state}")


def skypilot(state):
    state.mkdir(parents=True, exist_ok=True)
    path = venv()
    port = free_port()
    home = state / "server-home"
    home.mkdir(exist_ok=True)
    proc = start(state, "skypilot", [str(path / "bin" / "sky"), "api", "start", "--foreground",
                                     "--host", "127.0.0.1", "--port", str(port)], env=sky_env(home))
    url = f"http://127.0.0.1:{port}"

    def healthy():
        with urllib.request.urlopen(f"{url}/api/health", timeout=3) as response:
            return json.loads(response.read()).get("status") == "healthy"

    wait_for("the SkyPilot API server", healthy, proc, 120, state, "skypilot")
    print(url)
    print(path / "bin" / "sky")


def nginx(state, port, namespace, secret, upstream):
    state.mkdir(parents=True, exist_ok=True)
    api_port = json.loads((controlplane.STATE / "ports.json").read_text())["apiserver"]
    deadline = time.monotonic() + 120
    htpasswd = None
    while htpasswd is None:
        try:
            found = controlplane.api(api_port, "GET", f"/api/v1/namespaces/{namespace}/secrets/{secret}")
            htpasswd = base64.b64decode(found["data"]["auth"])
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"dataplane: Secret {namespace}/{secret} did not appear")
            time.sleep(0.3)
    (state / "htpasswd").write_bytes(htpasswd + b"\n")
    (state / "nginx-tmp").mkdir(exist_ok=True)
    # What the ingress does for the release: basic auth, then the API server; with the
    # websocket upgrade the chart's http-snippet configures.
    (state / "nginx.conf").write_text(f"""
worker_processes 1;
pid {state}/nginx.pid.file;
error_log {state}/nginx-error.log;
daemon off;
events {{ worker_connections 64; }}
http {{
  access_log {state}/nginx-access.log;
  client_body_temp_path {state}/nginx-tmp;
  proxy_temp_path {state}/nginx-tmp;
  fastcgi_temp_path {state}/nginx-tmp;
  uwsgi_temp_path {state}/nginx-tmp;
  scgi_temp_path {state}/nginx-tmp;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 1000m;
    location / {{
      auth_basic "SkyPilot API server";
      auth_basic_user_file {state}/htpasswd;
      proxy_pass {upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 3600;
    }}
  }}
}}
""")
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = start(state, "nginx", [binary, "-p", str(state), "-c", str(state / "nginx.conf")])

    def listening():
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_for("nginx", listening, proc, 30, state, "nginx")
    start(state, "nginx-watch", [sys.executable, str(Path(__file__).resolve()), "watch", str(state),
                                 namespace, secret])


def watch(state, namespace, secret):
    """Keeps nginx's htpasswd equal to the Secret's `auth`, as ingress-nginx's controller does:
    it watches the Secret, writes the changed htpasswd, and reloads. Each watch is short and starts
    with the Secret as it is, so a change made between two watches is not missed. Ends when nginx
    has stopped."""
    nginx_pid = int((state / "nginx.pid").read_text())
    htpasswd_file = state / "htpasswd"
    selector = urllib.parse.quote(f"metadata.name={secret}")

    def nginx_runs():
        try:
            os.kill(nginx_pid, 0)
            return True
        except ProcessLookupError:
            return False

    def load(event):
        if event.get("type") not in ("ADDED", "MODIFIED"):
            return  # deleted, or a watch error: keep serving the last login
        encoded = (event["object"].get("data") or {}).get("auth")
        if encoded is None:
            return
        htpasswd = base64.b64decode(encoded) + b"\n"
        if htpasswd_file.read_bytes() == htpasswd:
            return
        # Written whole, then renamed: nginx never reads half a file.
        fresh = state / "htpasswd.new"
        fresh.write_bytes(htpasswd)
        os.replace(fresh, htpasswd_file)
        os.kill(nginx_pid, signal.SIGHUP)
        log(f"Secret {namespace}/{secret} changed: htpasswd rewritten, nginx reloaded")

    while nginx_runs():
        began = time.monotonic()
        try:
            # Read afresh for each watch: a restarted control plane has a new port and new keys.
            api_port = json.loads((controlplane.STATE / "ports.json").read_text())["apiserver"]
            url = (f"https://127.0.0.1:{api_port}/api/v1/namespaces/{namespace}/secrets"
                   f"?watch=1&fieldSelector={selector}&timeoutSeconds=5")
            with urllib.request.urlopen(url, context=controlplane.ssl_context(), timeout=15) as events:
                for line in events:
                    load(json.loads(line))
        except (OSError, ValueError, KeyError) as err:
            # The control plane is restarting or gone: try again.
            log(f"watching Secret {namespace}/{secret}: {err!r}")
        # A watch that ends at once (an error, a namespace being deleted) must not become a
        # busy loop.
        time.sleep(max(0.0, 0.5 - (time.monotonic() - began)))


def down(state):
    for name in ["nginx-watch", "nginx", "skypilot"]:
        pid_file = state / f"{name}.pid"
        try:
            pid = int(pid_file.read_text())
        except (FileNotFoundError, ValueError):
            continue
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        pid_file.unlink(missing_ok=True)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("skypilot", "nginx", "watch", "down"):
        raise SystemExit(__doc__)
    state = Path(sys.argv[2]).resolve()
    if sys.argv[1] == "skypilot":
        skypilot(state)
    elif sys.argv[1] == "nginx":
        port, namespace, secret, upstream = sys.argv[3:7]
        nginx(state, int(port), namespace, secret, upstream)
    elif sys.argv[1] == "watch":
        namespace, secret = sys.argv[3:5]
        watch(state, namespace, secret)
    else:
        down(state)


if __name__ == "__main__":
    main()
