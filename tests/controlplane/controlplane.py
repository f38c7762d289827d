#!/usr/bin/env python3
"""Starts and stops skyctl's test control plane on loopback.

  controlplane.py up     build (or reuse) the binaries, start etcd, kube-apiserver,
                         kube-controller-manager, kube-scheduler and kwok with one simulated
                         node, wait until all is ready, print the kubeconfig's path
  controlplane.py down   stop every process it started, by PID
  controlplane.py status say whether it runs, and where

Both up and down are idempotent: `up` on a healthy control plane only prints the kubeconfig.
State (certificates, etcd data, logs, audit log, kubeconfig) lives in $SKYCTL_TEST_STATE,
by default target/controlplane in the repository.
"""

import fcntl
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
STATE = Path(os.environ.get("SKYCTL_TEST_STATE", REPO / "target" / "controlplane"))
NODE_NAME = "skyctl-test-node"
SERVICE_CIDR = "10.96.0.0/16"
# The addresses kwok gives pods. The data plane makes them local inside a network namespace of
# its own (dataplane.py), so that a Gateway or ingress controller there reaches a pod's stand-in
# through its Service's EndpointSlices, which may not hold loopback addresses.
POD_CIDR = "10.244.0.0/16"
# Started in this order, stopped in reverse.
COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]


def log(message):
    print(f"controlplane: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_file(name):
    return STATE / "pids" / f"{name}.pid"


def running_pid(name):
    """The PID of a component that is alive. A zombie (no init reaps it in some sandboxes) or a
    PID reused by another program counts as stopped."""
    try:
        pid = int(pid_file(name).read_text())
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    state = stat.rsplit(")", 1)[1].split()[0]
    if state in ("Z", "X") or not cmdline.endswith(name.encode()):
        return None
    return pid


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=STATE / "pki")


def make_certificates():
    """A CA, the API server's serving certificate, an admin client certificate and the
    service-account signing key. ECDSA keys keep generation instant."""
    (STATE / "pki").mkdir(parents=True)
    ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    openssl("genpkey", *ec, "-out", "ca.key")
    openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=skyctl-test-ca",
            "-days", "3650", "-out", "ca.crt")
    sans = ("subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,"
            "DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local")
    for name, subject, ext in [
        ("apiserver", "/CN=kube-apiserver", [sans, "extendedKeyUsage=serverAuth"]),
        ("admin", "/O=system:masters/CN=skyctl-test-admin", ["extendedKeyUsage=clientAuth"]),
    ]:
        openssl("genpkey", *ec, "-out", f"{name}.key")
        openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr")
        (STATE / "pki" / f"{name}.ext").write_text("\n".join(ext) + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "3650", "-extfile", f"{name}.ext", "-out", f"{name}.crt")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key")
    openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub")


def write_kubeconfig(api_port):
    pki = STATE / "pki"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "skyctl-test", "cluster": {
            "server": f"https://127.0.0.1:{api_port}",
            "certificate-authority": str(pki / "ca.crt")}}],
        "users": [{"name": "admin", "user": {
            "client-certificate": str(pki / "admin.crt"),
            "client-key": str(pki / "admin.key")}}],
        "contexts": [{"name": "skyctl-test", "context": {"cluster": "skyctl-test", "user": "admin"}}],
        "current-context": "skyctl-test",
    }
    # JSON is YAML, and every kubeconfig reader accepts it.
    (STATE / "kubeconfig").write_text(json.dumps(config, indent=2) + "\n")


def write_audit_policy():
    # Metadata level records verb, user and object of every request: enough to count requests
    # and writes, which the no-op upgrade test and the benchmarks rely on.
    (STATE / "audit-policy.yaml").write_text(
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\n"
        "rules:\n- level: Metadata\n")


def start(name, binary, args):
    logfile = open(STATE / "logs" / f"{name}.log", "ab")
    proc = subprocess.Popen([str(binary), *args], stdout=logfile, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=STATE)
    pid_file(name).write_text(str(proc.pid))
    return proc


def ssl_context():
    pki = STATE / "pki"
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return context


def api(port, method, path, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"https://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, context=ssl_context(), timeout=10) as response:
        return json.loads(response.read() or b"null")


def wait_for(what, check, proc=None, timeout=120):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"controlplane: {what} exited with code {proc.returncode}; "
                             f"see {STATE / 'logs'}")
        try:
            if check():
                return
        except (OSError, urllib.error.URLError, ValueError, KeyError) as err:
            last_error = err
        time.sleep(0.2)
    raise SystemExit(f"controlplane: {what} not ready after {timeout}s ({last_error}); "
                     f"see {STATE / 'logs'}")


def http_ok(url, context=None):
    with urllib.request.urlopen(url, context=context, timeout=5) as response:
        return response.status == 200


def healthy():
    """The control plane runs if every process is alive and the API server is ready."""
    if not all(running_pid(name) for name in COMPONENTS):
        return False
    try:
        port = json.loads((STATE / "ports.json").read_text())["apiserver"]
        return http_ok(f"https://127.0.0.1:{port}/readyz", ssl_context())
    except (OSError, urllib.error.URLError, ValueError, KeyError):
        return False


def build():
    result = subprocess.run([str(HERE / "build.sh")], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise SystemExit(f"controlplane: building the binaries failed (exit {result.returncode}); "
                         "the output above says which module and command")
    return Path(result.stdout.strip().splitlines()[-1])


def up():
    if healthy():
        return
    bin_dir = build()
    stop_all()
    started = time.monotonic()
    for sub in ["pki", "etcd", "logs", "pids"]:
        subprocess.run(["rm", "-rf", str(STATE / sub)], check=True)
    (STATE / "logs").mkdir(parents=True)
    (STATE / "pids").mkdir()
    (STATE / "audit.log").unlink(missing_ok=True)
    make_certificates()
    write_audit_policy()
    ports = {name: free_port() for name in
             ["etcd", "etcd_peer", "apiserver", "controller_manager", "scheduler", "kwok"]}
    (STATE / "ports.json").write_text(json.dumps(ports))
    pki = STATE / "pki"

    etcd_url = f"http://127.0.0.1:{ports['etcd']}"
    peer_url = f"http://127.0.0.1:{ports['etcd_peer']}"
    etcd = start("etcd", bin_dir / "etcd", [
        "--name=default", f"--data-dir={STATE / 'etcd'}",
        f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
        f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=default={peer_url}",
        # Tests throw their data away; fsync would only slow every write.
        "--unsafe-no-fsync", "--log-level=warn"])
    wait_for("etcd", lambda: http_ok(f"{etcd_url}/health"), etcd)

    apiserver = start("kube-apiserver", bin_dir / "kube-apiserver", [
        f"--etcd-servers={etcd_url}",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
        # The reconciler refuses a loopback address; nothing in the tests calls the API server
        # through the in-cluster `kubernetes` Service, so it is not needed.
        "--endpoint-reconciler-type=none",
        f"--secure-port={ports['apiserver']}",
        f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC", "--allow-privileged=true",
        # Admission webhooks (ingress-nginx registers one) are stored but never called: no pod
        # runs behind their Services, and calling a ClusterIP would send traffic off loopback.
        "--disable-admission-plugins=ValidatingAdmissionWebhook,MutatingAdmissionWebhook",
        f"--audit-policy-file={STATE / 'audit-policy.yaml'}",
        f"--audit-log-path={STATE / 'audit.log'}", "--audit-log-format=json",
        "--audit-log-maxsize=200", "--audit-log-maxbackup=1"])
    write_kubeconfig(ports["apiserver"])
    wait_for("kube-apiserver",
             lambda: http_ok(f"https://127.0.0.1:{ports['apiserver']}/readyz", ssl_context()),
             apiserver)

    kubeconfig = str(STATE / "kubeconfig")
    delegated = [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
                 f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1",
                 "--leader-elect=false"]
    controller_manager = start("kube-controller-manager", bin_dir / "kube-controller-manager", [
        *delegated, f"--secure-port={ports['controller_manager']}",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        f"--root-ca-file={pki / 'ca.crt'}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        f"--cluster-signing-cert-file={pki / 'ca.crt'}",
        f"--cluster-signing-key-file={pki / 'ca.key'}",
        # The in-tree host-path provisioner binds PersistentVolumeClaims on this one-node
        # cluster; nothing ever writes to the volumes, since no container runs.
        "--enable-hostpath-provisioner=true"])
    scheduler = start("kube-scheduler", bin_dir / "kube-scheduler", [
        *delegated, f"--secure-port={ports['scheduler']}"])
    kwok = start("kwok", bin_dir / "kwok", [
        f"--kubeconfig={kubeconfig}", *kwok_stage_configs(), "--node-lease-duration-seconds=40",
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        f"--cidr={POD_CIDR}", "--node-ip=127.0.0.1",
        f"--server-address=127.0.0.1:{ports['kwok']}"])

    add_simulated_node(ports["apiserver"])
    add_default_storage_class(ports["apiserver"])
    node_path = f"/api/v1/nodes/{NODE_NAME}"
    wait_for("the simulated node", lambda: any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in api(ports["apiserver"], "GET", node_path)["status"].get("conditions", [])), kwok)
    # Pods can only be created once the controller manager has made the default ServiceAccount.
    wait_for("kube-controller-manager",
             lambda: api(ports["apiserver"], "GET", "/api/v1/namespaces/default/serviceaccounts/default"),
             controller_manager)
    wait_for("kube-scheduler",
             lambda: http_ok(f"https://127.0.0.1:{ports['scheduler']}/healthz",
                             ssl._create_unverified_context()), scheduler)
    log(f"ready in {time.monotonic() - started:.1f}s")


def kwok_stage_configs():
    """kwok only simulates what its Stage objects describe and ships them in its module, pinned
    to the version we build. Nodes: become Ready, then keep a lease; pods: become Ready, finish
    Jobs, and go away when deleted."""
    gomodcache = subprocess.run(["go", "env", "GOMODCACHE"], check=True, capture_output=True,
                                text=True).stdout.strip()
    version = (HERE / "build.sh").read_text().split("kwok_version=")[1].split()[0]
    stages = Path(gomodcache) / f"sigs.k8s.io/kwok@{version}/kustomize/stage"
    files = ["node/fast/node-initialize.yaml",
             "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
             "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml"]
    missing = [f for f in files if not (stages / f).is_file()]
    if missing:
        raise SystemExit(f"controlplane: kwok's stage files {missing} are not in {stages}; "
                         "run tests/controlplane/build.sh, which downloads the kwok module")
    return [f"--config={stages / f}" for f in files]


def add_simulated_node(port):
    """One node that kwok plays the kubelet for. Its addresses are set before kwok sees it,
    and kwok keeps addresses it finds, so NodePort URLs resolve to loopback."""
    api(port, "POST", "/api/v1/nodes", {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": NODE_NAME,
                     "annotations": {"kwok.x-k8s.io/node": "fake"},
                     "labels": {"kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64", "type": "kwok"}},
    })
    api(port, "PATCH", f"/api/v1/nodes/{NODE_NAME}/status", {"status": {"addresses": [
        {"type": "ExternalIP", "address": "127.0.0.1"},
        {"type": "InternalIP", "address": "127.0.0.1"},
        {"type": "Hostname", "address": NODE_NAME}]}},
        content_type="application/strategic-merge-patch+json")


def add_default_storage_class(port):
    api(port, "POST", "/apis/storage.k8s.io/v1/storageclasses", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "standard", "annotations": {
            "storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "kubernetes.io/host-path",
        "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"})


def stop_all():
    for name in reversed(COMPONENTS):
        pid = running_pid(name)
        if pid is None:
            continue
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and running_pid(name):
            time.sleep(0.1)
        if running_pid(name):
            os.killpg(pid, signal.SIGKILL)
        pid_file(name).unlink(missing_ok=True)


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in ("up", "down", "status"):
        raise SystemExit(__doc__)
    STATE.mkdir(parents=True, exist_ok=True)
    # One caller at a time: parallel test binaries all call `up`.
    with open(STATE / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if command == "up":
            up()
            print(STATE / "kubeconfig")
        elif command == "down":
            stop_all()
        elif healthy():
            print(f"running; KUBECONFIG={STATE / 'kubeconfig'}")
        else:
            print("not running")
            sys.exit(1)


if __name__ == "__main__":
    main()
