"""`jobpulse serve --workers N`: N server processes, each with its own listening socket.

Every worker binds the port with SO_REUSEPORT, so the kernel spreads new connections over
the workers evenly. With one shared socket (uvicorn's own supervisor), the worker that wakes
first accepts every pending connection: a few long-lived keep-alive clients (SDK transports,
a proxy's connection pool) all landed on one process while the others idled.

The supervisor restarts a worker that dies and stops them all on SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

log = logging.getLogger("jobpulse.serve")

STARTUP_FAILURE = 3  # uvicorn's exit code when a server cannot start
BACKLOG = 2048
_STOP_SECONDS = 30.0
_POLL_SECONDS = 0.5
_RESTART_PAUSE_SECONDS = 1.0  # a worker that keeps dying is not restarted in a tight loop


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port that other SO_REUSEPORT sockets may share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def run_worker(host: str, port: int, log_level: str, supervisor: int) -> None:
    """One worker process of the `supervisor` process: its own listening socket, the app
    from the environment."""
    exit_with_supervisor(supervisor)
    import uvicorn

    sock = reuse_port_socket(host, port)
    sock.listen(BACKLOG)
    config = uvicorn.Config(
        "jobpulse.api.app:worker_app",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,  # the worker configures logging itself (worker_app)
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=[sock])


def exit_with_supervisor(supervisor: int, poll_seconds: float = 0.5) -> None:
    """A worker whose supervisor died (kill -9) is re-parented and would live on, serving
    the port and running loops nobody manages: it stops itself instead, gracefully (uvicorn
    shuts down on SIGTERM). The supervisor's pid is given, not read from getppid() here: a
    worker still starting when its supervisor died would take its new parent for it."""

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(poll_seconds)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="jobpulse-supervisor-watch", daemon=True).start()


class Supervisor:
    """Keeps `count` workers serving host:port until asked to stop."""

    def __init__(self, count: int, host: str, port: int, log_level: str) -> None:
        self.count = count
        self.host = host
        self.port = port
        self.log_level = log_level
        self._stop = threading.Event()
        self._context = multiprocessing.get_context("spawn")

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; the exit status (STARTUP_FAILURE if workers cannot
        start). Raises OSError when the port is taken."""
        # Bound but never listening: the port is ours (a clear error now if it is not),
        # yet the kernel hands this socket no connections.
        reserved = reuse_port_socket(self.host, self.port)
        self.port = reserved.getsockname()[1]
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        workers = [self._spawn() for _ in range(self.count)]
        status = 0
        try:
            while not self._stop.wait(_POLL_SECONDS):
                for index, worker in enumerate(workers):
                    if worker.is_alive():
                        continue
                    if worker.exitcode == STARTUP_FAILURE:
                        log.error("a worker could not start (see above): stopping")
                        status = STARTUP_FAILURE
                        self._stop.set()
                        break
                    log.warning(
                        "worker %s exited (%s): starting another", worker.pid, worker.exitcode
                    )
                    time.sleep(_RESTART_PAUSE_SECONDS)
                    workers[index] = self._spawn()
        finally:
            _stop_all(workers)
            reserved.close()
        return status

    def _spawn(self) -> BaseProcess:
        worker = self._context.Process(
            target=run_worker,
            args=(self.host, self.port, self.log_level, os.getpid()),
            daemon=False,
        )
        worker.start()
        return worker

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping the workers", signal.Signals(signum).name)
        self._stop.set()


def _stop_all(workers: list[BaseProcess]) -> None:
    """SIGTERM (each worker finishes its requests and commits), then SIGKILL stragglers."""
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    deadline = time.monotonic() + _STOP_SECONDS
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            log.warning("worker %s did not stop within %ss: killing it", worker.pid, _STOP_SECONDS)
            worker.kill()
            worker.join()
