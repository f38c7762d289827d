#!/usr/bin/env python3
"""Stands in for what the simulated cluster cannot run: the SkyPilot API server, the
ingress-nginx data path in front of it, and for single sign-on oauth2-proxy and an OIDC issuer.
Pods do not execute on the test control plane, so the real SkyPilot server (from PyPI) and the
real oauth2-proxy (built from its Go module) run as local processes, started as the release's
pods would be, and a real nginx listens on the release's node port on 127.0.0.1 and does what
ingress-nginx does for the release's Ingress.

  dataplane.py skypilot STATE            start the SkyPilot API server; prints its URL and
                                         the path of the matching `sky` client
  dataplane.py pod STATE NAMESPACE POD [SERVICE=URL ...]
                                         start it as the release's pod NAMESPACE/POD runs it:
                                         the container's environment resolved from the cluster
                                         as the kubelet does (Secrets, fields, resources), its
                                         ConfigMaps mounted under /root placed in its HOME, and
                                         the `sky api start` arguments of its start script;
                                         SERVICE (`name:port`) is reached at URL, as cluster
                                         DNS would route it; prints the same
  dataplane.py podip STATE TRAEFIK_STATE NAMESPACE POD [SERVICE=URL ...]
                                         `pod`, listening where the pod does: its IP (made a
                                         local address, see pod_network) and its container
                                         port, so that a controller here reaches it through the
                                         release's Service and its EndpointSlices; each
                                         loopback URL is bridged into the pod's network
                                         namespace at the same address
  dataplane.py traefik STATE PORT NAMESPACE...
                                         start Traefik (build-traefik.sh) as the cluster's
                                         Gateway API and Ingress controller, watching the
                                         NAMESPACEs: its entry point `web` on 127.0.0.1:PORT
                                         for Gateway listeners of port PORT, reported as their
                                         Gateways' address, and `http` on 127.0.0.2:80 for
                                         Ingresses of class `traefik`, reported as theirs
                                         (a published address has no port: users reach an
                                         ingress controller on 80); returns once it runs
  dataplane.py oauth2proxy STATE NAMESPACE POD
                                         start oauth2-proxy as the release's pod NAMESPACE/POD
                                         runs it (its arguments and environment, on a free
                                         loopback port); prints its URL
  dataplane.py issuer STATE CLIENT_ID CLIENT_SECRET_FILE EMAIL
                                         start the OIDC issuer (oidc_issuer.py); prints its URL
  dataplane.py nginx STATE PORT NAMESPACE INGRESS UPSTREAM
                                         once the Ingress exists, serve PORT as ingress-nginx
                                         serves it: only its rule's host, over https with the
                                         certificate of its TLS Secret when it has one, basic
                                         auth when its annotations ask for it (with the
                                         htpasswd of the Secret they name, reloaded whenever
                                         the Secret changes), the forwarding headers, then
                                         UPSTREAM
  dataplane.py watch STATE NAMESPACE SECRET
                                         (started by `nginx`) the reloading, as ingress-nginx's
                                         controller does it: watch the Secret, rewrite the
                                         htpasswd, reload nginx; ends when nginx does
  dataplane.py authproxy STATE PORT HTPASSWD HEADER UPSTREAM
                                         an auth proxy an admin runs in front: basic auth with
                                         the htpasswd file, then UPSTREAM with the user's name
                                         in HEADER (a client's own HEADER is replaced)
  dataplane.py release STATE NAMESPACE RELEASE PORT
                                         `pod` for the release's API server pod, once it
                                         exists, then `nginx` on PORT for its Ingress: what
                                         scripts/demo serves
  dataplane.py freeze                    print SkyPilot's wheels resolved anew, pinned (what
                                         `scripts/dependencies update` writes to
                                         requirements.txt)
  dataplane.py stop STATE NAME...        stop what was started with STATE under these names
                                         (`nginx-watch nginx`: the node port's nginx, as
                                         ingress-nginx stops serving when it is deleted)
  dataplane.py down STATE                stop everything started with STATE (whole process
                                         groups: SkyPilot's workers outlive SIGTERM)

The SkyPilot virtualenv and oauth2-proxy are cached per user and version, so only the first run
installs them.
"""

import base64
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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
# The bound keeps the combination SkyPilot is written for when `freeze` resolves anew.
BOUNDS = ["sqlalchemy>=2.0.16,<2.1"]
# Every wheel of the virtualenv at the version the suite last passed with (`freeze` writes it;
# `scripts/dependencies update` moves it). Its hash is the cache key: new pins, a new virtualenv.
REQUIREMENTS = HERE / "requirements.txt"
CACHE = Path(os.environ.get("SKYCTL_TEST_CACHE",
                            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "skyctl-test"))


def log(message):
    print(f"dataplane: {message}", file=sys.stderr, flush=True)


def venv():
    """The cached virtualenv with SkyPilot at the pinned wheels; built on first use. The marker
    is written last, so an interrupted install is redone rather than used."""
    key = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    path = CACHE / f"skypilot-{SKYPILOT_VERSION}-{key}"
    installed = path / ".installed"
    if installed.exists():
        return path
    log(f"installing skypilot {SKYPILOT_VERSION} into {path}")
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    # Every wheel is pinned, so nothing is resolved: --no-deps keeps an unlisted one out, and
    # `pip check` proves the list is whole.
    pip = str(path / "bin" / "pip")
    subprocess.run([pip, "install", "-q", "--no-deps", "-r", str(REQUIREMENTS)], check=True)
    subprocess.run([pip, "check"], check=True, stdout=subprocess.DEVNULL)
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


def freeze():
    """Resolves SkyPilot's wheels anew, at the newest versions BOUNDS allow, in a scratch
    virtualenv, and prints them pinned: the text of requirements.txt."""
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([sys.executable, "-m", "venv", scratch], check=True)
        pip = str(Path(scratch) / "bin" / "pip")
        subprocess.run([pip, "install", "-q", f"skypilot=={SKYPILOT_VERSION}", *BOUNDS],
                       check=True, stdout=sys.stderr)
        frozen = subprocess.run([pip, "freeze", "--all", "--exclude", "pip"], check=True,
                                stdout=subprocess.PIPE, text=True).stdout
    print(f"# SkyPilot {SKYPILOT_VERSION}'s wheels, as `dataplane.py freeze` resolved them.")
    print(frozen, end="")


def sky_env(home):
    """SkyPilot keeps its state in HOME; each run gets its own, and sends no usage data."""
    env = dict(os.environ, HOME=str(home), SKYPILOT_DISABLE_USAGE_COLLECTION="1",
               SKYPILOT_DEBUG="0", PYTHONUNBUFFERED="1")
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def queue_manager_port(port):
    """The port SkyPilot's request queue binds for an API server on PORT: it moves in lockstep
    with the server's port, kept within [50000, 60000) (sky/server/requests/queues/mp_queue.py)."""
    default_server, default_queue = 46580, 50011
    if port == default_server:
        return default_queue
    return 50000 + (default_queue - 50000 + port - default_server) % 10000


def is_free(port):
    """Whether PORT can be bound on loopback, checked as SkyPilot checks it (SO_REUSEADDR)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def server_port():
    """A free loopback port for `sky api start --port` whose request-queue port is free too."""
    while not is_free(queue_manager_port(port := free_port())):
        pass
    return port


def start(state, name, args, env=None):
    log_file = open(state / f"{name}.log", "ab")
    proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=env, cwd=state)
    (state / f"{name}.pid").write_text(str(proc.pid))
    return proc


def stop_group(proc):
    """Ends PROC's whole process group: SkyPilot's workers outlive their server and would keep
    its ports."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


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


def serve(state, args, env, restarts=0, at=None):
    """Starts `sky api start ARGS --foreground` on a free loopback port; prints its URL and the
    `sky` client of the same installation once it answers healthy. A server that exits before
    then is started again up to `restarts` times, as the kubelet restarts a pod's container;
    how often is written to STATE/restarts. One whose port another process took between the
    choice and the bind is started again on other ports, whatever `restarts` says: that is the
    harness's race, not the pod's."""
    path = venv()
    (state / "restarts").write_text("0")
    attempt = port_taken = 0
    while True:
        host, port = at or ("127.0.0.1", server_port())
        url = f"http://{host}:{port}"

        def healthy():
            with urllib.request.urlopen(f"{url}/api/health", timeout=3) as response:
                return json.loads(response.read()).get("status") == "healthy"

        proc = start(state, "skypilot", [str(path / "bin" / "sky"), "api", "start", *args,
                                         "--foreground", "--port", str(port)], env=env)
        try:
            # Generous: a server starts in under a minute, but a busy machine only slows it.
            wait_for("the SkyPilot API server", healthy, proc, 300, state, "skypilot")
            break
        except Exited as exited:
            if "is already in use" in str(exited) and port_taken < 3 and not at:
                port_taken += 1
                log(f"port {port} or the request queue's port was taken before the server bound "
                    "it; starting it on other ports")
                stop_group(proc)
                continue
            if attempt == restarts:
                raise
            attempt += 1
            # The exception's own line, not SQLAlchemy's "Background on this error" after it.
            lines = str(exited).strip().splitlines()
            last = next((line for line in reversed(lines)
                         if ("Error" in line or "Exception" in line) and "Background" not in line),
                        lines[-1])
            log(f"the SkyPilot API server exited before it was healthy ({last}); restarting "
                "it, as the kubelet restarts the container of a pod whose restartPolicy is Always")
            # A container restart ends every process in it.
            stop_group(proc)
            (state / "restarts").write_text(str(attempt))
            time.sleep(1)
    print(url, flush=True)
    print(path / "bin" / "sky", flush=True)
    return url


def skypilot(state):
    state.mkdir(parents=True, exist_ok=True)
    home = state / "server-home"
    home.mkdir(exist_ok=True)
    serve(state, ["--host", "127.0.0.1"], sky_env(home))


def cluster_get():
    """GET from the control plane's API, as the kubelet reads a pod's sources."""
    api_port = json.loads((controlplane.STATE / "ports.json").read_text())["apiserver"]
    return lambda path: controlplane.api(api_port, "GET", path)


def container_of(namespace, name, container_name):
    """The pod, once it has its IP, and its container of that name. The kubelet starts a pod's
    containers only in its sandbox, which has the pod's IP; their environment may name it."""
    get = cluster_get()
    deadline = time.monotonic() + 120
    while not (found := get(f"/api/v1/namespaces/{namespace}/pods/{name}")).get(
            "status", {}).get("podIP"):
        if time.monotonic() > deadline:
            raise SystemExit(f"dataplane: pod {namespace}/{name} has no IP after 120 s")
        time.sleep(0.2)
    container = next((c for c in found["spec"]["containers"] if c["name"] == container_name), None)
    if container is None:
        raise SystemExit(f"dataplane: pod {namespace}/{name} has no container {container_name}")
    return get, found, container


def container_env(get, found, container, namespace, services):
    """The container's environment as the kubelet gives it, with each `name:port` of SERVICES
    replaced by the local URL that stands in for it (`http://name:port` becomes that URL)."""
    if container.get("envFrom"):
        raise SystemExit(f"dataplane: pod {namespace}/{found['metadata']['name']} uses envFrom, "
                         "which this stand-in for the kubelet does not resolve")
    env = {}
    for var in container.get("env") or []:
        value = resolve_env_var(var, found, container, namespace, get, env)
        for service, url in services.items():
            value = value.replace(f"http://{service}", url)
        env[var["name"]] = value
    # The kubelet sets the container's hostname to the pod's name.
    env.setdefault("HOSTNAME", found["metadata"]["name"])
    return env


def mount_config_maps(get, found, container, namespace, home):
    """The ConfigMaps the container mounts under /root, placed under HOME instead (a key per
    file; a subPath mount is that one file)."""
    volumes = {v["name"]: v for v in found["spec"].get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount["name"], {})
        path = mount["mountPath"]
        if "configMap" not in volume or not path.startswith("/root/"):
            continue
        data = get(f"/api/v1/namespaces/{namespace}/configmaps/"
                   f"{volume['configMap']['name']}").get("data") or {}
        target = home / path[len("/root/"):]
        if mount.get("subPath"):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(data[mount["subPath"]])
        else:
            target.mkdir(parents=True, exist_ok=True)
            for key, text in data.items():
                (target / key).write_text(text)


def pod(state, namespace, name, services, at_pod_ip=False):
    """Runs the SkyPilot API server as the kubelet would run the release's pod: the environment
    of its container resolved from the cluster, the `sky api start` arguments its start script
    execs, ~/.sky/config.yaml from the release's ConfigMap, as the script copies it, and the
    ConfigMaps it mounts under /root. Only the port differs (each server here needs its own,
    unless AT_POD_IP: then the pod's own address and container port), and HOME is a directory
    of its own."""
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)  # the environment file holds what the Secrets hold
    get, found, container = container_of(namespace, name, "skypilot-api")
    env = container_env(get, found, container, namespace, services)
    args = sky_api_start_args(container, namespace, name)

    home = state / "server-home"
    (home / ".sky").mkdir(parents=True, exist_ok=True)
    config_map = next((v["configMap"]["name"] for v in found["spec"].get("volumes") or []
                       if v["name"] == "skypilot-config" and "configMap" in v), None)
    if config_map:
        data = get(f"/api/v1/namespaces/{namespace}/configmaps/{config_map}").get("data") or {}
        (home / ".sky" / "config.yaml").write_text(data.get("config.yaml", ""))
    mount_config_maps(get, found, container, namespace, home)
    environment = state / "environment.json"
    environment.write_text(json.dumps({"env": env, "args": args}, indent=1))
    os.chmod(environment, 0o600)
    log(f"pod {namespace}/{name}: sky api start {' '.join(args)}, with "
        f"{', '.join(sorted(env))}")
    at = pod_address(get, found, container) if at_pod_ip else None
    # A pod's container that exits is started again (restartPolicy Always, the only policy a
    # Deployment allows).
    return serve(state, args, dict(sky_env(home), **env), restarts=3, at=at)


def podip(state, traefik_state, namespace, name, services):
    """`pod`, run inside the network namespace of the Traefik started with TRAEFIK_STATE at the
    pod's address, and reached from here too: prints a loopback URL bridged to the pod's
    address (for an nginx in front of it, as ingress-nginx's door), and the `sky` client. The
    SERVICES' URLs (servers on this side's loopback, such as oauth2-proxy) are bridged into the
    namespace at the same address."""
    state.mkdir(parents=True, exist_ok=True)
    netns = (traefik_state / "netns").read_text().strip()
    for index, url in enumerate(services.values()):
        address = urllib.parse.urlsplit(url).netloc
        bridge(state, f"service-{index}", netns, f"tcp:{address}", f"tcp:{address}",
               target_inside=False)
    get, found, container = container_of(namespace, name, "skypilot-api")
    ip, port = pod_address(get, found, container, check=False)
    served = subprocess.run(["ip", "netns", "exec", netns, sys.executable,
                             str(Path(__file__).resolve()), "podip-inside", str(state), namespace,
                             name, *(f"{k}={v}" for k, v in services.items())],
                            stdout=subprocess.PIPE, text=True)
    if served.returncode != 0:
        raise SystemExit(served.returncode)
    sky = served.stdout.splitlines()[-1]
    local = free_port()
    bridge(state, "pod", netns, f"tcp:{ip}:{port}", f"tcp:127.0.0.1:{local}", target_inside=True)
    print(f"http://127.0.0.1:{local}", flush=True)
    print(sky, flush=True)


def pod_address(get, found, container, check=True):
    """Where the pod listens: its IP, once kwok gave it one, made local by pod_network, and
    its container's first port. The server binds what its start script says (`--deploy`:
    every address), as in the pod."""
    namespace, name = found["metadata"]["namespace"], found["metadata"]["name"]
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    deadline = time.monotonic() + 120
    while not (ip := until_found(get, path, f"pod {name}").get("status", {}).get("podIP")):
        if time.monotonic() > deadline:
            raise SystemExit(f"dataplane: pod {namespace}/{name} got no IP")
        time.sleep(0.3)
    if check:
        pod_network(ip)
    port = (container.get("ports") or [{}])[0].get("containerPort")
    if not port:
        raise SystemExit(f"dataplane: the container of pod {namespace}/{name} names no port")
    return ip, port


def pod_network(ip):
    """Checks that pod address IP is local: `podip` runs in the network namespace `traefik`
    made, where kwok's pod addresses are. Never on this machine's own network: traffic goes
    only to loopback here, and EndpointSlices refuse loopback addresses."""
    with socket.socket() as s:
        try:
            s.bind((ip, 0))
        except OSError as err:
            raise SystemExit(f"dataplane: pod address {ip} is not local ({err}); `podip` runs "
                             "in the network namespace of a data plane's Traefik") from None


def release(state, namespace, name, port):
    """A release's API server and its ingress, as `pod` and `nginx` start them: waits for the
    API server's pod (the Deployment `NAME-api-server`), runs it, then serves the Ingress
    `NAME-ingress` on PORT. Both keep running after this returns, until `down`."""
    get = cluster_get()
    prefix = f"{name}-api-server-"

    def api_pod():
        try:
            pods = get(f"/api/v1/namespaces/{namespace}/pods")["items"]
        except OSError:
            return None
        return next((p["metadata"]["name"] for p in pods
                     if p["metadata"]["name"].startswith(prefix)
                     and not p["metadata"].get("deletionTimestamp")), None)

    deadline = time.monotonic() + 300
    while (found := api_pod()) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"dataplane: no pod {namespace}/{prefix}* appeared")
        time.sleep(0.5)
    url = pod(state, namespace, found, {})
    nginx(state, port, namespace, f"{name}-ingress", url)


def traefik(state, port, namespaces):
    """Runs Traefik as the cluster's own Gateway API and Ingress controller, from outside the
    cluster as kubectl reaches it (KUBECONFIG, client certificates), in a network namespace of
    its own (see pod_namespace). A Gateway listener of port PORT is served by the entry point
    of that port (Traefik matches them by port), and its Gateways report 127.0.0.1. Ingresses
    of class `traefik` report 127.0.0.2, where an entry point listens on port 80: an Ingress's
    published address carries no port. Traefik reaches pods through their Services'
    EndpointSlices, at the pods' addresses: the stand-ins listen there (`podip`)."""
    state.mkdir(parents=True, exist_ok=True)
    binary = subprocess.run([str(HERE / "build-traefik.sh")], check=True,
                            stdout=subprocess.PIPE, text=True).stdout.strip()
    inside = pod_namespace(state)
    netns = inside[-1]
    api = f"tcp:127.0.0.1:{json.loads((controlplane.STATE / 'ports.json').read_text())['apiserver']}"
    # The API server, at the address the kubeconfig names, inside too.
    bridge(state, "api", netns, api, api, target_inside=False)
    # What users reach from here: the entry points, at the addresses Traefik reports.
    for name, address in (("web", f"tcp:127.0.0.1:{port}"), ("http", "tcp:127.0.0.2:80")):
        bridge(state, name, netns, address, address, target_inside=True)
    watched = ",".join(namespaces)
    env = dict(os.environ, KUBECONFIG=str(controlplane.STATE / "kubeconfig"))
    proc = start(state, "traefik", [
        *inside, binary,
        # Traefik would call out for new versions and send usage data.
        "--global.checkNewVersion=false",
        "--global.sendAnonymousUsage=false",
        f"--entryPoints.web.address=127.0.0.1:{port}",
        "--entryPoints.http.address=127.0.0.2:80",
        "--ping=true",
        "--ping.entryPoint=web",
        "--providers.kubernetesGateway=true",
        f"--providers.kubernetesGateway.namespaces={watched}",
        "--providers.kubernetesGateway.statusAddress.ip=127.0.0.1",
        "--providers.kubernetesIngress=true",
        f"--providers.kubernetesIngress.namespaces={watched}",
        "--providers.kubernetesIngress.ingressEndpoint.ip=127.0.0.2",
        "--log.level=INFO",
    ], env=env)

    def ready():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=3) as response:
            return response.status == 200

    wait_for("Traefik", ready, proc, 60, state, "traefik")


def pod_namespace(state):
    """A network namespace for STATE's Traefik and the pods it reaches, made here and deleted
    by `down`: kwok's pod addresses (controlplane.POD_CIDR) are local inside it, on its
    loopback device, so that Traefik reaches a pod's stand-in at the pod's address without
    any traffic to such an address on this machine's own network. Returns the command prefix
    that runs a program inside it. Needs root, as `ip netns` does."""
    name = f"skyctl-{hashlib.sha256(str(state).encode()).hexdigest()[:12]}"
    made = subprocess.run(["ip", "netns", "add", name], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if made.returncode != 0:
        raise SystemExit(f"dataplane: cannot make network namespace {name} for Traefik and the "
                         f"pods it reaches (`ip netns add` needs root): {made.stdout.strip()}")
    (state / "netns").write_text(name)
    for command in (["link", "set", "lo", "up"],
                    ["address", "add", controlplane.POD_CIDR, "dev", "lo"]):
        subprocess.run(["ip", "-n", name, *command], check=True)
    return ["ip", "netns", "exec", name]


def bridge(state, name, netns, target, listen, target_inside):
    """Makes TCP TARGET on one side reachable at TCP LISTEN on the other, the sides being
    network namespace NETNS (TARGET's when TARGET_INSIDE) and this one: a forwarder on the
    target's side listens on a socket file, which both sides see, and one on the other side
    listens on LISTEN and forwards to the file. Both are stopped by `down` for STATE."""
    socket_file = state / f"{name}.sock"
    inside = ["ip", "netns", "exec", netns]
    script = [sys.executable, str(Path(__file__).resolve()), "forward", str(state)]
    near = start(state, f"forward-{name}-target",
                 [*(inside if target_inside else []), *script, f"unix:{socket_file}", target])
    wait_for(f"the {name} forwarder", socket_file.exists, near, 10, state, f"forward-{name}-target")
    far = start(state, f"forward-{name}-listen",
                [*([] if target_inside else inside), *script, listen, f"unix:{socket_file}"])
    ready = state / f"forward-{name}-listen.ready"
    wait_for(f"the {name} forwarder", ready.exists, far, 10, state, f"forward-{name}-listen")


def forward(state, listen, target):
    """Copies every connection to LISTEN to a new one to TARGET, both ways, until killed."""
    import asyncio

    def parse(address):
        kind, _, rest = address.partition(":")
        if kind == "unix":
            return ("unix", rest)
        host, _, port = rest.rpartition(":")
        return ("tcp", host, int(port))

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def handle(reader, writer):
        to = parse(target)
        try:
            if to[0] == "unix":
                far_reader, far_writer = await asyncio.open_unix_connection(to[1])
            else:
                far_reader, far_writer = await asyncio.open_connection(to[1], to[2])
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, far_writer), pipe(far_reader, writer))

    async def main():
        at = parse(listen)
        if at[0] == "unix":
            server = await asyncio.start_unix_server(handle, at[1])
        else:
            server = await asyncio.start_server(handle, at[1], at[2])
            name = Path(parse(target)[1]).stem
            (state / f"forward-{name}-listen.ready").touch()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def oauth2proxy(state, namespace, name):
    """Runs oauth2-proxy as the release's pod would: the container's arguments, with $(VAR)
    expanded from its environment as the kubelet does, and the environment (the client id and
    secret from the Secret it names). It listens on a free loopback port instead of the pod's."""
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    get, found, container = container_of(namespace, name, "oauth2-proxy")
    env = container_env(get, found, container, namespace, {})
    port = free_port()
    args = []
    for arg in container.get("args") or []:
        for key, value in env.items():
            arg = arg.replace(f"$({key})", value)
        if arg.startswith("--http-address="):
            arg = f"--http-address=127.0.0.1:{port}"
        if arg.startswith("--redis-connection-url="):
            raise SystemExit("dataplane: the release's oauth2-proxy keeps sessions in Redis, "
                             "which this data plane does not run; install with "
                             "auth.oauth.session-store-type=cookie")
        args.append(arg)
    binary = subprocess.run([str(HERE / "build-oauth2-proxy.sh")], check=True,
                            stdout=subprocess.PIPE, text=True).stdout.strip()
    proc = start(state, "oauth2-proxy", [binary, *args], env=dict(os.environ, **env))
    url = f"http://127.0.0.1:{port}"

    def ready():
        with urllib.request.urlopen(f"{url}/ping", timeout=3) as response:
            return response.status == 200

    wait_for("oauth2-proxy", ready, proc, 60, state, "oauth2-proxy")
    print(url)


def issuer(state, client_id, secret_file, email):
    state.mkdir(parents=True, exist_ok=True)
    port = free_port()
    python = venv() / "bin" / "python"  # PyJWT and cryptography come with SkyPilot
    proc = start(state, "oidc", [str(python), str(HERE / "oidc_issuer.py"), str(port), client_id,
                                 secret_file, email])
    url = f"http://127.0.0.1:{port}"

    def ready():
        with urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=3):
            return True

    wait_for("the OIDC issuer", ready, proc, 60, state, "oidc")
    print(url)


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


def run_nginx(state, name, port, location, host=None, tls=None):
    """Starts nginx on 127.0.0.1:PORT with one `location /` of these directives; returns once it
    listens. With HOST, only requests for that host name get there, the others a 404 (the
    controller's default backend); with TLS (certificate and key files), it serves https."""
    ssl = " ssl" if tls else ""
    server = f"""
  server {{
    listen 127.0.0.1:{port}{ssl} default_server;
    {f"ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};" if tls else ""}
    return 404;
  }}""" if host else ""
    names = f"server_name {host};" if host else ""
    certificate = f"ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};" if tls else ""
    (state / f"{name}-tmp").mkdir(exist_ok=True)
    # Workers run as root where the master does: they read the htpasswd in STATE, which is
    # private to its owner when it holds what Secrets hold.
    user = "user root;" if os.geteuid() == 0 else ""
    (state / f"{name}.conf").write_text(f"""
{user}
worker_processes 1;
pid {state}/{name}.pid.file;
error_log {state}/{name}-error.log;
daemon off;
events {{ worker_connections 64; }}
http {{
  access_log {state}/{name}-access.log;
  client_body_temp_path {state}/{name}-tmp;
  proxy_temp_path {state}/{name}-tmp;
  fastcgi_temp_path {state}/{name}-tmp;
  uwsgi_temp_path {state}/{name}-tmp;
  scgi_temp_path {state}/{name}-tmp;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}{server}
  server {{
    listen 127.0.0.1:{port}{ssl};
    {names}
    {certificate}
    client_max_body_size 1000m;
    location / {{
{location}
    }}
  }}
}}
""")
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = start(state, name, [binary, "-p", str(state), "-c", str(state / f"{name}.conf")])

    def listening():
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_for(name, listening, proc, 30, state, name)


def until_found(get, path, what):
    deadline = time.monotonic() + 120
    while True:
        try:
            return get(path)
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"dataplane: {what} did not appear")
            time.sleep(0.3)


def nginx(state, port, namespace, ingress, upstream):
    """What ingress-nginx serves for the release's Ingress, as far as the tests go: basic auth
    when the annotations ask for it, then the API server with the headers ingress-nginx always
    sets. Those headers matter: without them the server takes a request from 127.0.0.1 for one
    from its own host, and lets it in without a login."""
    state.mkdir(parents=True, exist_ok=True)
    get = cluster_get()
    found = until_found(get, f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{ingress}",
                        f"Ingress {namespace}/{ingress}")
    annotations = found["metadata"].get("annotations") or {}
    spec = found.get("spec") or {}
    host = next((rule["host"] for rule in spec.get("rules") or [] if rule.get("host")), None)
    tls = None
    tls_secret = next((t.get("secretName") for t in spec.get("tls") or []
                       if host in (t.get("hosts") or [])), None)
    if tls_secret:
        found_tls = until_found(get, f"/api/v1/namespaces/{namespace}/secrets/{tls_secret}",
                                f"Secret {namespace}/{tls_secret}")
        tls = (state / "tls.crt", state / "tls.key")
        for file, key in zip(tls, ("tls.crt", "tls.key")):
            file.write_bytes(base64.b64decode(found_tls["data"][key]))
    secret = None
    auth = ""
    if annotations.get("nginx.ingress.kubernetes.io/auth-type") == "basic":
        secret = annotations["nginx.ingress.kubernetes.io/auth-secret"]
        found = until_found(get, f"/api/v1/namespaces/{namespace}/secrets/{secret}",
                            f"Secret {namespace}/{secret}")
        (state / "htpasswd").write_bytes(base64.b64decode(found["data"]["auth"]) + b"\n")
        auth = f"""      auth_basic "SkyPilot API server";
      auth_basic_user_file {state}/htpasswd;"""
    # The websocket upgrade is the chart's http-snippet's.
    run_nginx(state, "nginx", port, f"""{auth}
      proxy_pass {upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Scheme $scheme;
      proxy_read_timeout 3600;""", host=host, tls=tls)
    if secret is not None:
        start(state, "nginx-watch", [sys.executable, str(Path(__file__).resolve()), "watch",
                                     str(state), namespace, secret])


def authproxy(state, port, htpasswd, header, upstream):
    """An auth proxy an admin might run in front of the ingress: it checks basic auth itself and
    tells the API server who the user is in HEADER, replacing whatever the client sent there."""
    state.mkdir(parents=True, exist_ok=True)
    run_nginx(state, "authproxy", port, f"""      auth_basic "SkyPilot";
      auth_basic_user_file {htpasswd};
      proxy_pass {upstream};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header {header} "$remote_user@example.com";
      proxy_set_header Authorization "";""")


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
    forwarders = [p.stem for p in state.glob("forward-*.pid")]
    stop(state, ["nginx-watch", "nginx", "authproxy", "skypilot", "oauth2-proxy", "oidc",
                 "traefik", *forwarders])
    # SkyPilot detaches its job controllers into sessions of their own, which outlive the
    # server's process group; a container's teardown ends them, and so does this.
    for pid in started_for(state):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    netns = state / "netns"
    if netns.exists():
        subprocess.run(["ip", "netns", "delete", netns.read_text().strip()],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        netns.unlink()


def stop(state, names):
    """Ends the process groups of the NAMES started in STATE, each given once."""
    for name in names:
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


def started_for(state):
    """The processes whose HOME is under STATE: every process of the servers started with it."""
    home = f"HOME={state}/".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if any(var.startswith(home) for var in environ.split(b"\0")):
            yield int(entry.name)


def main():
    commands = ("skypilot", "pod", "podip", "podip-inside", "traefik", "forward", "release",
                "oauth2proxy", "issuer", "nginx", "watch", "authproxy", "stop", "down")
    if sys.argv[1:] == ["freeze"]:
        return freeze()
    if len(sys.argv) < 3 or sys.argv[1] not in commands:
        raise SystemExit(__doc__)
    state = Path(sys.argv[2]).resolve()
    command, args = sys.argv[1], sys.argv[3:]
    if command == "skypilot":
        skypilot(state)
    elif command == "pod":
        services = dict(arg.split("=", 1) for arg in args[2:])
        pod(state, args[0], args[1], services)
    elif command == "podip":
        podip(state, Path(args[0]).resolve(), args[1], args[2],
              dict(arg.split("=", 1) for arg in args[3:]))
    elif command == "podip-inside":
        pod(state, args[0], args[1], dict(arg.split("=", 1) for arg in args[2:]), at_pod_ip=True)
    elif command == "forward":
        forward(state, args[0], args[1])
    elif command == "traefik":
        traefik(state, int(args[0]), args[1:])
    elif command == "release":
        release(state, args[0], args[1], int(args[2]))
    elif command == "oauth2proxy":
        oauth2proxy(state, *args[:2])
    elif command == "issuer":
        issuer(state, *args[:3])
    elif command == "nginx":
        nginx(state, int(args[0]), *args[1:4])
    elif command == "watch":
        watch(state, *args[:2])
    elif command == "authproxy":
        authproxy(state, int(args[0]), *args[1:4])
    elif command == "stop":
        stop(state, args)
    else:
        down(state)


if __name__ == "__main__":
    main()
