"""The gunicorn worker class of ``oaipress serve``: an asyncio front and a thread pool.

gunicorn (the arbiter) forks the workers, restarts one that stops sending heartbeats and
stops them on SIGTERM. Each worker accepts connections on one asyncio loop
(oai.serving.connection) and runs the app in ``--threads`` threads. On SIGTERM it stops
accepting, closes the connections that wait for a request, lets the responses under way
finish (within gunicorn's graceful timeout), then exits.

Usable with a gunicorn command of one's own too:
``gunicorn -k oai.serving.worker.OAIWorker --threads 4 wsgi:app`` (the limits then come
from the ``OAIPRESS_*`` settings of the environment, as the app's do).
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gunicorn.workers.base import Worker

from oai.config import ConfigError, load_settings
from oai.serving.connection import Front
from oai.serving.limits import Limits

HEARTBEAT_SECONDS = 1.0
_SHUTDOWN_POLL = 0.05


def raise_open_files_limit(wanted: int) -> None:
    """Let the process hold ``wanted`` descriptors if the hard limit allows: each open
    connection is one, and the usual soft limit (1024) is below the connection cap."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class OAIWorker(Worker):  # type: ignore[misc]
    """Reads requests on an asyncio loop; runs the WSGI app in a thread pool."""

    def init_process(self) -> None:
        self.limits: Limits = getattr(self.app, "serving_limits", None) or _configured()
        raise_open_files_limit(self.limits.max_connections + 256)
        super().init_process()

    def run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        self._quick = False

        def graceful() -> None:
            self.alive = False
            stop.set()

        def quick() -> None:
            self._quick = True
            graceful()

        loop.add_signal_handler(signal.SIGTERM, graceful)
        loop.add_signal_handler(signal.SIGQUIT, quick)
        loop.add_signal_handler(signal.SIGINT, quick)
        loop.add_signal_handler(signal.SIGUSR1, self.log.reopen_files)
        pool = ThreadPoolExecutor(max_workers=self.cfg.threads, thread_name_prefix="oaipress")
        front = Front(
            app=self.wsgi,
            pool=pool,
            limits=self.limits,
            log=self.log,
            multiprocess=self.cfg.workers > 1,
            access_log=bool(self.cfg.accesslog),
        )
        servers = [
            await asyncio.start_server(
                front.accept, sock=getattr(listener, "sock", listener), backlog=self.cfg.backlog
            )
            for listener in self.sockets
        ]
        try:
            while self.alive and not stop.is_set():
                self.notify()
                if os.getppid() != self.ppid:  # the arbiter died: so do we
                    self.log.info("Parent changed, shutting down: %s", self)
                    break
                try:
                    async with asyncio.timeout(HEARTBEAT_SECONDS):
                        await stop.wait()
                except TimeoutError:
                    pass
            for server in servers:
                server.close()
            front.stop()
            if not self._quick:
                await self._finish(front)
        finally:
            for connection in list(front.connections):
                connection.close()
            pool.shutdown(wait=False, cancel_futures=True)

    async def _finish(self, front: Front) -> None:
        """Wait for the responses under way, within the graceful timeout, heartbeat on."""
        deadline = asyncio.get_running_loop().time() + self.cfg.graceful_timeout
        while front.connections and asyncio.get_running_loop().time() < deadline:
            self.notify()
            await asyncio.sleep(_SHUTDOWN_POLL)
        if front.connections:
            self.log.warning("graceful timeout: %d response(s) cut off", len(front.connections))


def _configured() -> Limits:
    """The limits of the environment's settings (a gunicorn command of one's own); a bad
    setting is reported by the app as it loads, so the defaults do until then."""
    try:
        return Limits.from_settings(load_settings())
    except ConfigError:
        return Limits()


def configure(cfg: Any) -> None:
    """Settings of a gunicorn config object that this worker needs (used by serve_app)."""
    cfg.set("worker_class", f"{__name__}.OAIWorker")
