#!/usr/bin/env python3
"""Stands in for what the simulated cluster cannot run: the SkyPilot API server and the
ingress-nginx data path in front of it. Pods do not execute on the test control plane, so the
real SkyPilot server (from PyPI) runs as a local process, and a real nginx listens on the
release's node port on 127.0.0.1, checks basic auth with the htpasswd from the release's
`<release>-basic-auth` Secret, and proxies to the server.

  dataplane.py skypilot STATE            start the SkyPilot API server; prints its URL and
                                         the path of the matching `sky` client
  dataplane.py pod STATE NAMESPACE POD   start it as the release's pod NAMESPACE/POD runs it:
                                         the container's environment resolved from the cluster
                                         as the kubelet does (Secrets, fields, resources), and
                                         the `sky api start` arguments of its start script;
                                         prints the same
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
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "controlplane"))
import controlplane  # noqa: E402  (the API helper and state of the running control plane)

SKYPILOT_VERSION = "0.14.1"
# SkyPilot 0.14.1 asks for `sqlalchemy>=2.0.16` and ships psycopg2 as its PostgreSQL driver (it
# also calls psycopg2 itself, for advisory locks). SQLAlchemy 2.1 made psycopg 3 the driver of a
# plain `postgresql://` URL, so with 2.1 the server dies at start on `No module named 'psycopg'`.
# The pin keeps the combination SkyPilot is written for. It is part of the cache key: a changed
# pin builds a new virtualenv.
PINS = ["sqlalchemy>=2.0.16,<2.1"]
VENV_NAME = f"skypilot-{SKYPILOT_VERSION}-sqlalchemy2.0"
CACHE = Path(os.environ.get("SKYCTL_TEST_CACHE",
                            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "skyctl-test"))


def log(message):
    print(f"dataplane: {message}", file=sys.stderr, flush=True)


def venv():
    """The cached virtualenv with SkyPilot; built on first use. The marker is written last, so
    an interrupted install is redone rather than used."""
    path = CACHE / VENV_NAME
    installed = path / ".installed"
    if installed.exists():
        return path
    log(f"installing skypilot {SKYPILOT_VERSION} into {path}")
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    subprocess.run([str(path / "bin" / "pip"), "install", "-q", f"skypilot=={SKYPILOT_VERSION}", *PINS],
                   check=True)
    # A server given a database builds its engine from a plain postgresql:// URL; the driver
    # that URL names must import, or that server dies at start. Checked here, once, by name.
    driver = subprocess.run([str(path / "bin" / "python"), "-c",
                             "import sqlalchemy; sqlalchemy.create_engine('postgresql://u@127.0.0.1/d')"],
                            capture_output=True, text=True)
    if driver.returncode != 0:
        raise SystemExit(f"dataplane: the virtualenv in {path} cannot reach PostgreSQL through "
                         f"postgresql:// URLs:\n{driver.stderr.strip().splitlines()[-1]}")
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


class Exited(SystemExit):
    """The process being waited for ended before it was ready."""


def wait_for(what, check, proc, timeout, state, log_name):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            # Long enough to hold a Python traceback's cause, not only its last frames.
            tail = "".join((state / f"{log_name}.log").read_text(errors="replace").splitlines(True)[-60:])
            raise Exited(f"dataplane: {what} exited with code {proc.returncode}; its log ends:\n{tail}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"dataplane: {what} not ready after {timeout}s; see {state}")


def serve(state, args, env, restarts=0):
    """Starts `sky api start ARGS --foreground` on a free loopback port; prints its URL and the
    `sky` client of the same installation once it answers healthy. A server that exits before
    then is started again up to `restarts` times, as the kubelet restarts a pod's container;
    how often is written to STATE/restarts."""
    path = venv()
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def healthy():
        with urllib.request.urlopen(f"{url}/api/health", timeout=3) as response:
            return json.loads(response.read()).get("status") == "healthy"

    (state / "restarts").write_text("0")
    for attempt in range(restarts + 1):
        proc = start(state, "skypilot", [str(path / "bin" / "sky"), "api", "start", *args,
                                         "--foreground", "--port", str(port)], env=env)
        try:
            wait_for("the SkyPilot API server", healthy, proc, 120, state, "skypilot")
            break
        except Exited as exited:
            if attempt == restarts:
                raise
            # The exception's own line, not SQLAlchemy's "Background on this error" after it.
            lines = str(exited).strip().splitlines()
            last = next((line for line in reversed(lines)
                         if ("Error" in line or "Exception" in line) and "Background" not in line),
                        lines[-1])
            log(f"the SkyPilot API server exited before it was healthy ({last}); restarting "
                "it, as the kubelet restarts the container of a pod whose restartPolicy is Always")
            # A container restart ends every process in it; SkyPilot's workers outlive their
            # server and would keep its port.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            (state / "restarts").write_text(str(attempt + 1))
            time.sleep(1)
    print(url)
    print(path / "bin" / "sky")


def skypilot(state):
    state.mkdir(parents=True, exist_ok=True)
    home = state / "server-home"
    home.mkdir(exist_ok=True)
    serve(state, ["--host", "127.0.0.1"], sky_env(home))


CONTAINER = "skypilot-api"


def pod(state, namespace, name):
    """Runs the SkyPilot API server as the kubelet would run the release's pod: the environment
    of its container resolved from the cluster, the `sky api start` arguments its start script
    execs, and ~/.sky/config.yaml from the release's ConfigMap, as the script copies it. Only the
    port differs (each server here needs its own), and HOME is a directory of its own."""
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)  # the environment file holds what the Secrets hold
    api_port = json.loads((controlplane.STATE / "ports.json").read_text())["apiserver"]

    def get(path):
        return controlplane.api(api_port, "GET", path)

    found = get(f"/api/v1/namespaces/{namespace}/pods/{name}")
    container = next(c for c in found["spec"]["containers"] if c["name"] == CONTAINER)
    env = {}
    for var in container.get("env") or []:
        env[var["name"]] = resolve_env_var(var, found, container, namespace, get, env)
    if container.get("envFrom"):
        raise SystemExit(f"dataplane: pod {namespace}/{name} uses envFrom, which this stand-in "
                         "for the kubelet does not resolve")
    # The kubelet sets the container's hostname to the pod's name.
    env.setdefault("HOSTNAME", name)
    args = sky_api_start_args(container, namespace, name)

    home = state / "server-home"
    (home / ".sky").mkdir(parents=True, exist_ok=True)
    config_map = next((v["configMap"]["name"] for v in found["spec"].get("volumes") or []
                       if v["name"] == "skypilot-config" and "configMap" in v), None)
    if config_map:
        data = get(f"/api/v1/namespaces/{namespace}/configmaps/{config_map}").get("data") or {}
        (home / ".sky" / "config.yaml").write_text(data.get("config.yaml", ""))
    environment = state / "environment.json"
    environment.write_text(json.dumps({"env": env, "args": args}, indent=1))
    os.chmod(environment, 0o600)
    log(f"pod {namespace}/{name}: sky api start {' '.join(args)}, with "
        f"{', '.join(sorted(env))}")
    # A pod's container that exits is started again (restartPolicy Always, the only policy a
    # Deployment allows).
    serve(state, args, dict(sky_env(home), **env), restarts=3)


def resolve_env_var(var, found, container, namespace, get, earlier):
    """One `env` entry's value, as the kubelet computes it. A source it cannot resolve fails:
    a server started without part of its environment would not be the pod's."""
    if "valueFrom" not in var:
        # $(VAR) references to earlier variables are expanded; $$ escapes a dollar.
        value = var.get("value", "")
        for key, known in earlier.items():
            value = value.replace(f"$({key})", known)
        return value.replace("$$", "$")
    source = var["valueFrom"]
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        data = get(f"/api/v1/namespaces/{namespace}/secrets/{ref['name']}").get("data") or {}
        return base64.b64decode(data[ref["key"]]).decode()
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        return get(f"/api/v1/namespaces/{namespace}/configmaps/{ref['name']}")["data"][ref["key"]]
    if "fieldRef" in source:
        return field(found, source["fieldRef"]["fieldPath"])
    if "resourceFieldRef" in source:
        ref = source["resourceFieldRef"]
        owner = next(c for c in found["spec"]["containers"]
                     if c["name"] == ref.get("containerName", container["name"]))
        kind, resource = ref["resource"].split(".", 1)
        amount = (owner.get("resources", {}).get(kind) or {}).get(resource)
        if amount is None:
            raise SystemExit(f"dataplane: {var['name']} reads {ref['resource']}, which the "
                             "container does not set (the kubelet would use the node's allocatable)")
        # Rounded up to a whole divisor, as the kubelet does: "4" CPUs is 4, 8Gi is 8589934592.
        # The API server stores the default divisor as "0", which means 1.
        divisor = quantity(ref.get("divisor") or "0") or 1
        return str(int(-(-quantity(amount) // divisor)))
    raise SystemExit(f"dataplane: {var['name']} has a valueFrom this stand-in does not resolve: {source}")


def field(found, path):
    meta, status, spec = found["metadata"], found.get("status", {}), found["spec"]
    simple = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"],
              "metadata.uid": meta["uid"], "spec.nodeName": spec.get("nodeName"),
              "spec.serviceAccountName": spec.get("serviceAccountName"),
              "status.podIP": status.get("podIP"), "status.hostIP": status.get("hostIP")}
    if path in simple:
        if simple[path] is None:
            raise SystemExit(f"dataplane: the pod has no {path} yet")
        return simple[path]
    for prefix, values in (("metadata.labels", meta.get("labels") or {}),
                           ("metadata.annotations", meta.get("annotations") or {})):
        if path.startswith(prefix + "['"):
            return values.get(path[len(prefix) + 2:-2], "")
    raise SystemExit(f"dataplane: fieldRef {path} is not one this stand-in resolves")


def quantity(text):
    """A Kubernetes quantity as a number: 4, 500m, 8Gi, 1G, 1e3."""
    suffixes = {"m": Fraction(1, 1000), "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
                "Pi": 2**50, "Ei": 2**60}
    text = str(text)
    number = text.rstrip("kmMGTPEi")
    return Fraction(number) * suffixes[text[len(number):]]


def sky_api_start_args(container, namespace, name):
    """The arguments the start script passes to `sky api start`, less `--foreground` (always
    given). Every branch of the chart's script execs the same command line."""
    script = "\n".join(container.get("command", []) + container.get("args", []))
    found = set()
    for line in script.splitlines():
        words = shlex.split(line, comments=True) if "sky api start" in line else []
        if words[:4] == ["exec", "sky", "api", "start"]:
            args = [w for w in words[4:] if w != "--foreground"]
            # What the line's output is redirected to is the shell's business, not sky's.
            found.add(tuple(args[:next((i for i, w in enumerate(args) if w.startswith(">")), len(args))]))
    if len(found) != 1:
        raise SystemExit(f"dataplane: the start script of pod {namespace}/{name} should exec one "
                         f"`sky api start` command line; it has {sorted(found)}")
    return list(found.pop())


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
    if len(sys.argv) < 3 or sys.argv[1] not in ("skypilot", "pod", "nginx", "watch", "down"):
        raise SystemExit(__doc__)
    state = Path(sys.argv[2]).resolve()
    if sys.argv[1] == "skypilot":
        skypilot(state)
    elif sys.argv[1] == "pod":
        namespace, name = sys.argv[3:5]
        pod(state, namespace, name)
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
