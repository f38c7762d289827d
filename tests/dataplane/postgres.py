#!/usr/bin/env python3
"""A real PostgreSQL for the tests, the database that SkyPilot API servers share under
RollingUpdate: Debian's `postgresql` server binaries, a cluster made afresh in a temporary
directory, listening on 127.0.0.1 only, on a free port, with password (scram-sha-256) login.

  postgres.py up STATE       initdb and start; prints the path of a file (mode 0600) that holds
                             the connection string, which carries the password: neither is
                             printed nor put on a command line
  postgres.py sql STATE SQL  runs SQL with psql as the database's owner; prints the rows, one a
                             line, columns separated by `|`
  postgres.py down STATE     stops the server (its whole process group)

`initdb` refuses to run as root, so under root the server runs as the unprivileged `postgres`
user that Debian's package creates (`setpriv`, which needs no PAM session or login shell).
"""

import glob
import os
import pwd
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROLE = "skypilot"
DATABASE = "skypilot"


def log(message):
    print(f"postgres: {message}", file=sys.stderr, flush=True)


def binaries():
    """The newest installed server's bin directory: Debian keeps each major version apart, under
    /usr/lib/postgresql/<major>/bin, and puts only the client wrappers on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parent.parent.name))
    if not found:
        raise SystemExit("postgres: no PostgreSQL server under /usr/lib/postgresql/*/bin; "
                         "scripts/prerequisites installs Debian's postgresql package")
    return Path(found[-1]).parent


def as_server_user(args):
    """The command line that runs `args` as the server's owner."""
    if os.geteuid() != 0:
        return args
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise SystemExit("postgres: running as root, and there is no `postgres` user to run "
                         "the server as; Debian's postgresql package creates it")
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + args


def owner():
    return pwd.getpwnam("postgres") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, state, env=None):
    """Runs a step as the server's owner; a failing step ends the harness with its output."""
    done = subprocess.run(as_server_user(args), cwd="/", env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"postgres: {Path(args[0]).name} failed ({done.returncode}):\n"
                         f"{done.stdout.decode(errors='replace')}")
    return done.stdout.decode()


def client_env(state):
    """psql reads the password from the environment, which, unlike argv, other users cannot
    read."""
    return dict(os.environ, PGPASSWORD=(state / "password").read_text(), PGCONNECT_TIMEOUT="5")


def up(state):
    state.mkdir(parents=True, exist_ok=True)
    bin_dir = binaries()
    user = owner()
    # The server's owner must reach its files inside the caller's (private) directory.
    os.chmod(state, 0o711)
    data = state / "data"
    data.mkdir()
    os.chown(data, user.pw_uid, user.pw_gid)
    password = secrets.token_hex(16)
    password_file = state / "password"
    password_file.write_text(password)
    os.chmod(password_file, 0o600)
    # initdb reads the superuser's password from a file; it is readable by its owner alone and
    # removed once the cluster exists.
    init_password = data.parent / "initdb-password"
    init_password.write_text(password + "\n")
    os.chmod(init_password, 0o600)
    os.chown(init_password, user.pw_uid, user.pw_gid)
    run([str(bin_dir / "initdb"), "-D", str(data), "-U", ROLE, f"--pwfile={init_password}",
         "--auth=scram-sha-256", "--encoding=UTF8", "--no-instructions", "-N"], state)
    init_password.unlink()

    port = free_port()
    log_file = open(state / "postgres.log", "ab")
    # No Unix socket (its default directory belongs to the system's own cluster), TCP on
    # loopback only, and no fsync: test data is thrown away.
    proc = subprocess.Popen(
        as_server_user([str(bin_dir / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                        "-p", str(port), "-k", "", "-c", "fsync=off", "-c", "full_page_writes=off",
                        "-c", "synchronous_commit=off", "-c", "max_connections=300"]),
        stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True, cwd="/")
    (state / "postgres.pid").write_text(str(proc.pid))

    env = client_env(state)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            tail = "".join((state / "postgres.log").read_text(errors="replace").splitlines(True)[-20:])
            raise SystemExit(f"postgres: the server exited with code {proc.returncode}; its log ends:\n{tail}")
        ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port),
                                "-U", ROLE, "-d", "postgres", "-q"], env=env)
        if ready.returncode == 0:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"postgres: not ready after 30s; see {state}/postgres.log")
        time.sleep(0.2)
    subprocess.run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", ROLE,
                    DATABASE], env=env, check=True)
    (state / "port").write_text(str(port))
    url_file = state / "connection-string"
    url_file.write_text(f"postgresql://{ROLE}:{password}@127.0.0.1:{port}/{DATABASE}")
    os.chmod(url_file, 0o600)
    log(f"PostgreSQL {bin_dir.parent.name} ready on 127.0.0.1:{port}, database {DATABASE}")
    print(url_file)


def sql(state, statement):
    port = (state / "port").read_text()
    done = subprocess.run([str(binaries() / "psql"), "-h", "127.0.0.1", "-p", port, "-U", ROLE,
                           "-d", DATABASE, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                           "-c", statement], env=client_env(state), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"postgres: psql failed ({done.returncode}): {done.stderr}")
    sys.stdout.write(done.stdout)


def down(state):
    pid_file = state / "postgres.pid"
    try:
        pid = int(pid_file.read_text())
    except (FileNotFoundError, ValueError):
        return
    # SIGQUIT is PostgreSQL's immediate shutdown: the postmaster passes it to its children (each
    # in a session of its own, so a signal to its group would miss them) and exits. The data is
    # thrown away, so nothing needs a clean shutdown; SIGKILL if it has not gone in 10 s.
    try:
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        log(f"the server ({pid}) ignored SIGQUIT; killing it")
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("up", "sql", "down"):
        raise SystemExit(__doc__)
    state = Path(sys.argv[2]).resolve()
    if sys.argv[1] == "up":
        up(state)
    elif sys.argv[1] == "sql":
        sql(state, sys.argv[3])
    else:
        down(state)


if __name__ == "__main__":
    main()
