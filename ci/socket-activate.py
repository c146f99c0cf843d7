#!/usr/bin/env python3
"""A small stand-in for systemd's socket activation and notify socket, for smoke tests.

    ci/socket-activate.py --listen 127.0.0.1:PORT [--name NAME] --notify-log FILE [--watchdog-usec N] -- CMD [ARGS...]

Binds and listens on the address, then starts CMD the way systemd starts a socket-activated Type=notify service:
the listening socket is fd 3, LISTEN_FDS=1, LISTEN_FDNAMES=NAME and LISTEN_PID set to the child's own pid (set after
the fork, before exec), NOTIFY_SOCKET names an abstract datagram socket whose messages are appended to FILE (one
line per assignment, prefixed with the arrival time), and WATCHDOG_USEC/WATCHDOG_PID when asked. SIGTERM and SIGINT
are forwarded to the child; the exit status is the child's (128+N if a signal N ended it). The launcher keeps its own
copy of the listening socket, as systemd does.
"""
import argparse
import os
import signal
import socket
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--name", default="unknown")
    ap.add_argument("--notify-log", required=True)
    ap.add_argument("--watchdog-usec", type=int, default=0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    host, port = a.listen.rsplit(":", 1)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, int(port)))
    listener.listen(128)
    notify_name = "linuxevent-notify-%d" % os.getpid()
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind("\0" + notify_name)
    log = open(a.notify_log, "a", buffering=1)
    start = time.monotonic()

    pid = os.fork()
    if pid == 0:
        try:
            if listener.fileno() == 3:
                os.set_inheritable(3, True)        # dup2(3, 3) would leave close-on-exec set
            else:
                os.dup2(listener.fileno(), 3)      # dup2 makes the new fd inheritable
            env = dict(os.environ)
            me = str(os.getpid())
            env.update(LISTEN_FDS="1", LISTEN_FDNAMES=a.name, LISTEN_PID=me, NOTIFY_SOCKET="@" + notify_name)
            if a.watchdog_usec > 0:
                env.update(WATCHDOG_USEC=str(a.watchdog_usec), WATCHDOG_PID=me)
            os.execvpe(cmd[0], cmd, env)
        finally:
            os._exit(127)

    def receive():
        while True:
            try:
                data = notify.recv(4096)
            except OSError:
                return
            for line in data.decode("utf-8", "replace").split("\n"):
                if line:
                    log.write("%.3f %s\n" % (time.monotonic() - start, line))

    threading.Thread(target=receive, daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: os.kill(pid, s))
    _, status = os.waitpid(pid, 0)
    time.sleep(0.2)                                 # let the last notifications land in the log
    sys.exit(os.waitstatus_to_exitcode(status) if os.waitstatus_to_exitcode(status) >= 0 else 128 - os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
