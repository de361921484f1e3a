"""Serve the API from several worker processes; the supervisor hands each new connection to
the worker with the fewest open.

``uvicorn --workers N`` shares one listening socket between its workers, and a worker woken
by new connections accepts every one waiting (asyncio accepts up to the backlog per wake-up).
Clients that keep their connections open (TAXII pollers, partner nodes, the workbench) then
all land on one worker while the others stay idle: measured with 8 keep-alive TAXII clients on
2 cores, one worker ran at 85 % of a core and the other at 0 % (benchmarks/taxii_load.py).
Each worker on its own ``SO_REUSEPORT`` socket, the kernel spread connections by a hash of
their addresses and ports: about evenly over many, but two partners posting TAXII envelopes
landed on one worker every other run (its one core for their requests, the other worker idle:
4,700 objects/s against 5,150 when apart), and eight clients were as often split 5 to 3 as 4 to 4.

Here the supervising process listens and accepts; a thread hands each connection (its file
descriptor, ``SCM_RIGHTS`` over a Unix ``SOCK_SEQPACKET`` socket pair per worker) to the worker
that has the fewest open connections among those that answer (their app started), the one
handed fewest so far on a tie; a worker says when a connection closes. It binds the address
before starting the workers, to fail early with a clear error when it is taken, starts the
workers, restarts one that dies, and stops them all on SIGTERM or SIGINT. The socket is bound
without ``SO_REUSEPORT`` (with it, any process of the same user that sets it could bind the port
too and take a share of the connections); the supervisor also takes a lock named after the
port (an abstract Unix socket, released by the kernel however the process ends), so a second
supervisor on the port is told so; and a worker asks the
kernel for SIGTERM when its supervisor dies (PR_SET_PDEATHSIG), so no orphaned worker goes on
serving.

Usage (the benchmarks): ``python -m scheldt.api.workers MODULE:FACTORY --workers 2``, where
``FACTORY()`` returns the ASGI application; ``scheldt serve --workers N`` runs the same.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import ctypes
import errno
import logging
import multiprocessing
import os
import selectors
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from scheldt.api.logs import configure_logging, log_config
from scheldt.errors import ConfigError

log = logging.getLogger("scheldt.api.workers")

#: Pending connections each worker's socket holds (as uvicorn's default backlog).
BACKLOG = 2048
#: A worker that dies is restarted, unless more than this many restarts happened in the last
#: :data:`RESTART_WINDOW_S` seconds (a worker that cannot start): then everything stops.
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
#: Seconds a worker has to finish its requests after SIGTERM before it is killed.
STOP_GRACE_S = 20.0
#: Seconds after which workers that do not answer yet are said to be still starting (once).
START_WARN_S = 60.0


def proxy_options() -> dict[str, Any]:
    """uvicorn's proxy settings from ``SCHELDT_TRUSTED_PROXIES``: proxy headers believed only
    from the addresses it lists, none by default. A security review: uvicorn's own default
    believes ``X-Forwarded-For`` from 127.0.0.1, so behind a local proxy passing the header on
    (or from any local process) each guess could claim a new address and escape the sign-in
    throttle, and the audit log named the address the caller chose."""
    from scheldt.settings import get_settings

    trusted = get_settings().trusted_proxies.strip()
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


def served_url(host: str, port: int) -> str:
    """The base URL of a server on (``host``, ``port``): an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def port_lock(port: int) -> socket.socket:
    """An exclusive lock on serving TCP ``port`` with workers: an abstract Unix socket named
    ``scheldt-serve:<port>`` (Linux), released when the returned socket is closed or the process
    ends, however it ends. Raises ConfigError when another supervisor holds it."""
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind(f"\0scheldt-serve:{port}")
    except OSError:
        lock.close()
        raise ConfigError("--port", f"another 'scheldt serve --workers' already serves port {port}") from None
    return lock


def passive_address(host: str, port: int) -> tuple[int, int, int, Any]:
    """(family, socket type, protocol, address) to bind a TCP server on (``host``, ``port``).
    Raises ConfigError naming ``--host`` when the host cannot be resolved."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ConfigError("--host", f"cannot resolve {host!r}: {exc}") from None
    return family, kind, proto, address


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (``host``, ``port``) with SO_REUSEADDR set (a restart binds while
    the last run's connections linger in TIME_WAIT), not yet listening; never SO_REUSEPORT,
    which would let any other process of the same user that sets it bind the port too and take
    a share of the connections without a word. ``port`` 0 picks a free port (read it from
    ``getsockname()``). Raises ConfigError when the address cannot be bound (taken, or not an
    address of this host)."""
    family, kind, proto, address = passive_address(host, port)
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        where = "--host" if exc.errno == errno.EADDRNOTAVAIL else "--port"
        raise ConfigError(where, f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def import_factory(spec: str) -> Callable[[], Any]:
    """The callable named by ``spec`` (``package.module:function``). Raises ConfigError."""
    module_name, sep, name = spec.partition(":")
    if not sep or not module_name or not name:
        raise ConfigError("factory", f"{spec!r} is not 'module:function'")
    try:
        module = __import__(module_name, fromlist=[name])
        return getattr(module, name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        raise ConfigError("factory", f"cannot import {spec!r}: {exc}") from None


#: prctl option: the signal a process gets when its parent ends (linux/prctl.h).
PR_SET_PDEATHSIG = 1


def _end_with_supervisor(supervisor: int) -> None:
    """Ask the kernel for SIGTERM when the supervisor ends (Linux PR_SET_PDEATHSIG), and end now
    if it already has. Elsewhere nothing is asked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    if os.getppid() != supervisor:
        os._exit(0)


@contextmanager
def outliving_uvicorn_stop_signals() -> Iterator[None]:
    """Run ``uvicorn`` inside this block to have this process go on after uvicorn stops on
    SIGTERM or SIGINT (Ctrl-C), so that what follows (closing the job runner and the store) and
    the exit handlers run.

    uvicorn (0.29 and later) stops serving on those signals, then raises the signal again under
    the handler it found when it started: by default SIGTERM then kills the process and SIGINT
    raises KeyboardInterrupt. Inside the block the handlers do nothing (uvicorn replaces them
    with its own while it serves); after it, the previous ones are back, so a second signal
    during the clean-up acts as it always did."""
    previous = {s: signal.signal(s, lambda *_: None) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


#: Seconds between two checks that a worker's supervisor is alive, and the most a worker whose
#: supervisor is gone waits for uvicorn before it ends itself. (It was a second STOP_GRACE_S,
#: which silently cut the supervisor's own grace for its workers from 20 s to 10 s.)
WATCH_EVERY_S = 1.0
ORPHAN_GRACE_S = 10.0


def _watch_supervisor(server: Any, supervisor: int) -> None:
    """End the worker when its supervisor is gone, whatever happened to the kernel's SIGTERM:
    one that arrives while the worker starts, between our no-op handler and uvicorn's own, is
    swallowed, and the worker served on as an orphan (seen once in a test run). Asks uvicorn
    to stop, then ends the process after :data:`ORPHAN_GRACE_S`."""
    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(WATCH_EVERY_S)
        server.should_exit = True
        time.sleep(ORPHAN_GRACE_S)
        os._exit(0)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def _say_when_started(server: Any, ready: Any) -> None:
    """Set ``ready`` (a multiprocessing Event) once uvicorn has run the app's start-up and
    accepts connections."""
    def watch() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            ready.set()

    threading.Thread(target=watch, name="ready-watch", daemon=True).start()


#: What goes over a worker's channel, a message each (``SOCK_SEQPACKET`` keeps them apart): the
#: supervisor hands a connection (:data:`HANDED`, with its descriptor); the worker says
#: connections closed (:data:`CLOSED`, a byte each), one handed that it could not take (:data:`DROPPED`:
#: no descriptor free), that it takes no more (:data:`LEAVING`, when it stops), and hands back
#: one it received after that (:data:`RETURNED`, with its descriptor).
HANDED, CLOSED, DROPPED, LEAVING, RETURNED = b"c", b"-", b"!", b"x", b"r"
#: Seconds a worker whose channel is full, or that dropped a connection, is handed nothing
#: while another can take it.
BUSY_S = 0.5
#: Connections the supervisor holds while no worker can take them; more wait in the kernel's
#: backlog (each held costs a descriptor, and every round tries the first).
MAX_WAITING = 256
#: Seconds between two warnings of a worker that connections handed to it were lost.
DROP_LOG_S = 5.0
#: Close notices a worker sends in one message at most (the supervisor reads 8 KiB at a time).
MAX_NOTICES = 4096


def _handed_server(config: Any, channel: socket.socket) -> Any:
    """A uvicorn server serving the connections its supervisor hands it over ``channel``
    instead of listening itself (see :data:`HANDED` for what goes over it). A close notice
    that cannot be sent at once (the channel full) is kept and sent with the next; a
    descriptor that does not come (this process has none free) is said, and the worker goes on
    taking connections; when it stops, it says so and hands back what was handed meanwhile."""
    import uvicorn

    class HandedServer(uvicorn.Server):  # type: ignore[misc]
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            self._unsaid, self._unsaid_drops, self._retrying, self._taking = 0, 0, False, False
            self._drops, self._drops_logged = 0, 0.0
            await super().startup(sockets=[])  # the app's start-up, and no listening socket
            self._handed_loop = asyncio.get_running_loop()
            channel.setblocking(False)
            self._handed_loop.add_reader(channel.fileno(), self._take)
            self._taking = True

        def _take(self) -> None:
            while self._taking:
                try:
                    said, fds, flags, _ = socket.recv_fds(channel, 16, 1)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    said, fds, flags = b"", [], 0
                if not said and not fds:  # the supervisor is gone: take no more
                    self._stop_taking()
                    return
                if not fds:
                    self._dropped(flags)
                for fd in fds:
                    self._serve_handed(socket.socket(fileno=fd))

        def _dropped(self, flags: int) -> None:
            """A connection handed without its descriptor (the kernel drops it when this process
            has none free: MSG_CTRUNC): lost. Said to the supervisor (with the close notices, so
            not lost when the channel is full), which hands this worker nothing for a while, and
            logged once per :data:`DROP_LOG_S` at most (a flood of idle connections drops
            thousands)."""
            self._unsaid_drops += 1
            if not self._retrying:
                self._say_closed()
            self._drops += 1
            now = time.monotonic()
            if now >= self._drops_logged + DROP_LOG_S:
                why = "no file descriptor free" if flags & socket.MSG_CTRUNC else "it came without one"
                log.warning("%d connection(s) handed to this worker lost: %s", self._drops, why)
                self._drops, self._drops_logged = 0, now

        def _serve_handed(self, conn: socket.socket) -> None:
            conn.setblocking(False)
            protocol = self.config.http_protocol_class(config=self.config, server_state=self.server_state,
                                                       app_state=self.lifespan.state, _loop=self._handed_loop)
            lost = protocol.connection_lost

            def connection_lost(exc: Exception | None) -> None:
                try:
                    lost(exc)
                finally:
                    self._unsaid += 1
                    if not self._retrying:  # else a retry is due and says this one too
                        self._say_closed()

            protocol.connection_lost = connection_lost
            self._handed_loop.create_task(self._handed_loop.connect_accepted_socket(lambda: protocol, conn))

        def _say(self, what: bytes) -> bool:
            try:
                channel.send(what)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:  # the supervisor is gone: nobody to tell
                pass
            return True

        def _say_closed(self) -> None:
            """Send the close and drop notices not said yet, a message of up to
            :data:`MAX_NOTICES`; while the channel is full, again every 50 ms."""
            self._retrying = False
            while self._unsaid or self._unsaid_drops:
                drops = min(self._unsaid_drops, MAX_NOTICES)
                closed = min(self._unsaid, MAX_NOTICES - drops)
                if not self._say(DROPPED * drops + CLOSED * closed):  # the channel is full: again shortly
                    self._retrying = True
                    self._handed_loop.call_later(0.05, self._say_closed)
                    return
                self._unsaid_drops -= drops
                self._unsaid -= closed

        def _stop_taking(self) -> None:
            """Take no more connections: say so, then hand back what came meanwhile."""
            if self._taking:
                self._taking = False
                with suppress(ValueError, OSError):
                    self._handed_loop.remove_reader(channel.fileno())
                self._patiently(lambda: channel.send(LEAVING))
            self._give_back()

        def _give_back(self) -> None:
            while True:
                try:
                    _, fds, _, _ = socket.recv_fds(channel, 16, 1)
                except OSError:
                    return
                if not fds:
                    return
                for fd in fds:
                    try:
                        self._patiently(lambda fd=fd: socket.send_fds(channel, [RETURNED], [fd]))
                    finally:
                        os.close(fd)

        @staticmethod
        def _patiently(send: Callable[[], object]) -> None:
            """``send`` on the non-blocking channel, tried again for up to a second while it is
            full (only when the worker stops: what it says then must get through); given up
            when the supervisor is gone."""
            deadline = time.monotonic() + 1.0
            while True:
                try:
                    send()
                    return
                except (BlockingIOError, InterruptedError):
                    if time.monotonic() > deadline:
                        return
                    time.sleep(0.01)
                except OSError:
                    return

        def handle_exit(self, sig: int, frame: Any) -> None:
            """uvicorn's stop on SIGTERM/SIGINT, and no more connections taken from now on,
            not from its next tick (up to 0.1 s later: a review's clients handed one meanwhile
            were closed unanswered)."""
            super().handle_exit(sig, frame)
            loop = getattr(self, "_handed_loop", None)
            if loop is not None:
                with suppress(RuntimeError):  # the loop has closed
                    loop.call_soon_threadsafe(self._stop_taking)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            self._stop_taking()
            await super().shutdown(sockets=sockets)
            self._give_back()  # what was handed before the supervisor read that this one leaves

    return HandedServer(config)


def _worker(factory: str, log_level: str, access_log: bool, supervisor: int, ready: Any,
            channel: socket.socket, workers: int) -> None:
    """One worker process of ``workers``: the app from ``factory``, serving the connections its
    supervisor hands it over ``channel``; sets ``ready`` once its app has started. Its STIX
    checks take its share of the cores (:func:`scheldt.exchange.stix_check.share_cores`)."""
    import uvicorn

    from scheldt.exchange import stix_check

    _end_with_supervisor(supervisor)
    stix_check.share_cores(workers)
    app = import_factory(factory)()
    config = uvicorn.Config(app, log_level=log_level, access_log=access_log, backlog=BACKLOG,
                            log_config=log_config(log_level), **proxy_options())
    server = _handed_server(config, channel)
    _watch_supervisor(server, supervisor)
    if ready is not None:
        _say_when_started(server, ready)
    try:
        with outliving_uvicorn_stop_signals():
            server.run()
    finally:
        # a multiprocessing child leaves by os._exit: run the exit handlers a normal exit runs
        # (stix_check stops its worker processes there); SIGTERM (the supervisor's, or the
        # kernel's when the supervisor dies) ends a worker stuck in them
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        atexit._run_exitfuncs()


class Supervisor:
    """``workers`` processes serving the app of ``factory`` on (``host``, ``port``); see the
    module docstring. :meth:`run` blocks until SIGTERM/SIGINT (or :meth:`stop`), or until workers
    keep dying (then it raises ConfigError). ``on_ready(port)`` is called once every worker
    accepts connections (its app started); it was called when the workers were only started,
    about 3 s before they answered, and a script that waited for "serving on" had its first
    requests refused (operator review)."""

    def __init__(self, factory: str, host: str, port: int, workers: int, *, log_level: str = "info",
                 access_log: bool = True) -> None:
        if workers < 1:
            raise ConfigError("--workers", f"{workers} workers: give 1 or more")
        self.factory, self.host, self.workers = factory, host, workers
        self.log_level, self.access_log = log_level, access_log
        # the lock first, so that a second supervisor is told so rather than "address in use"
        lock = port_lock(port) if port else None
        try:
            self._held = listening_socket(host, port)
        except ConfigError:
            if lock is not None:
                lock.close()
            raise
        self.port: int = self._held.getsockname()[1]
        try:
            self._lock = lock or port_lock(self.port)
        except ConfigError:
            self._held.close()
            raise
        if not log.handlers and not logging.getLogger().handlers:  # `scheldt serve` configures no logging
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s scheldt serve: %(message)s"))
            log.addHandler(handler)
            log.setLevel(logging.INFO)
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[Any] = []
        self._ready: list[Any] = []  # per worker, a multiprocessing Event set once it answers
        self._channels: list[socket.socket | None] = []  # per worker, where its connections are handed
        self._open: list[int] = []  # per worker, connections handed and not yet closed
        self._handed: list[int] = []  # per worker, connections handed in all
        self._busy: list[float] = []  # per worker, the monotonic time until which it is handed nothing
        self._state = threading.Lock()  # guards the four lists above and the workers' slots
        self._restarts: list[float] = []
        self._stopping = threading.Event()
        self._listening = threading.Event()  # set once the address takes connections
        self._listener_off = False  # True while MAX_WAITING connections wait: the listener is not read
        self._accept_warned = 0.0  # when "cannot accept" was last logged (monotonic s): once per DROP_LOG_S

    def _start(self) -> tuple[Any, Any, socket.socket]:
        ready = self._context.Event()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = self._context.Process(target=_worker, name="scheldt-worker", daemon=False,
                                         args=(self.factory, self.log_level, self.access_log, os.getpid(), ready,
                                               theirs, self.workers))
        try:
            process.start()
        finally:
            theirs.close()  # the worker has its own: the channel ends (EOF here) when it does
        mine.setblocking(False)  # (socket.recv_fds drops its flags before Python 3.12: no MSG_DONTWAIT)
        return process, ready, mine

    def _hand_out(self) -> None:
        """Accept connections on the address and hand each to a worker (see the module
        docstring) until :meth:`stop`; a connection no worker can take yet waits (the first
        workers still starting, all busy, or all gone and being replaced)."""
        listener = self._held
        # listen once a worker can serve: until then a client is refused, as it was before a
        # worker listened, rather than left waiting
        while not self._stopping.wait(0.05) and not any(r.is_set() for r in self._ready):
            pass
        listener.listen(BACKLOG)
        listener.setblocking(False)
        self._listening.set()
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ, -1)
        watched: dict[socket.socket, int] = {}
        waiting: list[socket.socket] = []
        try:
            while not self._stopping.is_set():
                try:
                    self._hand_out_once(listener, selector, watched, waiting)
                except Exception:  # noqa: BLE001 - the thread must go on, or the node takes no connection
                    log.exception("handing out connections failed; going on")
                    time.sleep(0.1)
        finally:
            for conn in waiting:
                conn.close()
            selector.close()

    def _hand_out_once(self, listener: socket.socket, selector: selectors.BaseSelector,
                       watched: dict[socket.socket, int], waiting: list[socket.socket]) -> None:
        """One round of :meth:`_hand_out`: accept what came, read what workers said, hand out
        what waits (``waiting``, updated in place)."""
        self._watch_channels(selector, watched)
        full = len(waiting) >= MAX_WAITING  # then new ones wait in the kernel's backlog, unread
        if full and not self._listener_off:
            selector.unregister(listener)
        elif not full and self._listener_off:
            selector.register(listener, selectors.EVENT_READ, -1)
        self._listener_off = full
        for key, _ in selector.select(timeout=0.02 if waiting else 0.2):
            if key.data == -1:
                waiting += self._accept(listener)
            elif self._read_channel(key.fileobj, key.data, waiting):  # type: ignore[arg-type]
                selector.unregister(key.fileobj)
                del watched[key.fileobj]  # type: ignore[arg-type]
                key.fileobj.close()  # type: ignore[union-attr]
        handed = 0
        for conn in waiting:  # in order, until one finds no worker: the rest would not either
            if not self._hand(conn):
                break
            handed += 1
        del waiting[:handed]

    def _watch_channels(self, selector: selectors.BaseSelector, watched: dict[socket.socket, int]) -> None:
        with self._state:
            current = {channel: i for i, channel in enumerate(self._channels) if channel is not None}
        for channel, i in current.items():
            if channel not in watched:
                selector.register(channel, selectors.EVENT_READ, i)
                watched[channel] = i

    def _accept(self, listener: socket.socket) -> list[socket.socket]:
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return []
        except OSError as exc:  # out of file descriptors, say: the connection waits in the backlog
            now = time.monotonic()
            if now >= self._accept_warned + DROP_LOG_S:
                log.warning("cannot accept a connection: %s", exc)
                self._accept_warned = now
            time.sleep(0.1)
            return []
        return [conn]

    def _read_channel(self, channel: socket.socket, i: int, waiting: list[socket.socket]) -> bool:
        """Read everything worker ``i`` said on ``channel`` (see :data:`HANDED`); connections it
        hands back join ``waiting``. True when the channel has ended (the worker is gone)."""
        while True:
            try:
                said, fds, _, _ = socket.recv_fds(channel, 8192, 16)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:
                said, fds = b"", []
            waiting += [socket.socket(fileno=fd) for fd in fds]
            with self._state:
                current = self._channels[i] is channel  # not a replaced or leaving worker's last words
                if not said and not fds:
                    if current:
                        self._channels[i], self._open[i] = None, 0
                    return True
                if current:
                    gone = said.count(CLOSED) + said.count(DROPPED) + said.count(RETURNED)
                    self._open[i] = max(0, self._open[i] - gone)
                    if DROPPED in said:
                        self._busy[i] = time.monotonic() + BUSY_S
                    if LEAVING in said:
                        self._channels[i], self._open[i] = None, 0

    def _hand(self, conn: socket.socket) -> bool:
        """Hand ``conn`` to the ready worker with the fewest open connections (the fewest
        handed on a tie), one busy (:data:`BUSY_S`) only when every other is; False when no
        worker took it."""
        now = time.monotonic()
        with self._state:
            ready = sorted((self._busy[i] > now, self._open[i], self._handed[i], i, channel)
                           for i, channel in enumerate(self._channels)
                           if channel is not None and self._ready[i].is_set())
        for _, _, _, i, channel in ready:
            try:
                socket.send_fds(channel, [HANDED], [conn.fileno()])
            except (BlockingIOError, InterruptedError):  # its channel is full: it is stuck or swamped
                with self._state:
                    self._busy[i] = time.monotonic() + BUSY_S
                continue
            except OSError:  # gone: the next one
                continue
            with self._state:
                if self._channels[i] is channel:
                    self._open[i] += 1
                    self._handed[i] += 1
            conn.close()  # the worker has its own copy
            return True
        return False

    def stop(self, *_: object) -> None:
        """Ask :meth:`run` to stop the workers and return (safe from a signal handler)."""
        self._stopping.set()

    def run(self, on_ready: Callable[[int], None] | None = None) -> None:
        """Start the workers and watch them; see the class docstring."""
        previous = {s: signal.signal(s, self.stop) for s in (signal.SIGTERM, signal.SIGINT)}
        handing = threading.Thread(target=self._hand_out, name="hand-out", daemon=True)
        try:
            started = [self._start() for _ in range(self.workers)]
            with self._state:
                self._processes, self._ready, self._channels = ([p for p, _, _ in started], [r for _, r, _ in started],
                                                                [c for _, _, c in started])
                self._open, self._handed, self._busy = [0] * self.workers, [0] * self.workers, [0.0] * self.workers
            handing.start()
            announced, warned, began = False, False, time.monotonic()
            while not self._stopping.wait(0.05 if not announced else 0.5):
                self._replace_dead()
                if not announced and not warned and time.monotonic() - began > START_WARN_S:
                    log.warning("workers still starting after %.0f s: not serving yet", START_WARN_S)
                    warned = True
                if not announced and self._listening.is_set() and all(r.is_set() for r in self._ready):
                    announced = True
                    log.info("serving on %s with %d workers", served_url(self.host, self.port), self.workers)
                    if on_ready is not None:
                        on_ready(self.port)
        finally:
            self._stopping.set()
            if handing.is_alive():
                handing.join()  # no connection is handed to a worker being stopped
            self._held.close()  # a new client is refused at once, not left waiting while workers stop
            self._stop_all()
            self._lock.close()
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _replace_dead(self) -> None:
        for i, process in enumerate(self._processes):
            if process.is_alive() or self._stopping.is_set():
                continue
            now = time.monotonic()
            self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW_S] + [now]
            if len(self._restarts) > MAX_RESTARTS:
                raise ConfigError("workers", f"workers exited {len(self._restarts)} times in "
                                  f"{RESTART_WINDOW_S:.0f} s (last exit status {process.exitcode}); see the log above")
            log.warning("worker %d (pid %s) exited with status %s; starting another", i, process.pid, process.exitcode)
            try:
                process, ready, channel = self._start()
            except OSError as exc:  # out of file descriptors or processes: again at the next round
                self._restarts.pop()
                log.error("cannot start worker %d: %s; trying again", i, exc)
                time.sleep(0.5)
                continue
            with self._state:  # the old channel is closed by the hand-out thread when it sees it end
                self._processes[i], self._ready[i], self._channels[i] = process, ready, channel
                self._open[i], self._handed[i], self._busy[i] = 0, 0, 0.0

    def _stop_all(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests it is serving
        deadline = time.monotonic() + STOP_GRACE_S
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def main(argv: list[str] | None = None) -> int:
    """``python -m scheldt.api.workers MODULE:FACTORY [--host H] [--port P] [--workers N]``; prints
    ``serving on http://H:P with N workers`` (IPv6: ``http://[H]:P``) once every worker accepts connections
    (``--port 0``: a free port, named there). Returns 2 on a configuration error (the address taken...)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("factory", help="module:function returning the ASGI app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--log-level", default="info")
    p.add_argument("--no-access-log", action="store_true")
    args = p.parse_args(argv)
    configure_logging(args.log_level)
    try:
        Supervisor(args.factory, args.host, args.port, args.workers, log_level=args.log_level,
                   access_log=not args.no_access_log).run(
            lambda port: print(f"serving on {served_url(args.host, port)} with {args.workers} workers", flush=True))
    except ConfigError as exc:
        print(f"error: {exc.where}: {exc.why}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
