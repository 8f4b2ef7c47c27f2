"""Where a search runs: a private Ray on this machine, listening on 127.0.0.1 only, or an
existing cluster joined with `--address`. Requests that cannot run are refused here, in one line.

- Private (no address): `ray.init(address="local")`, so neither `RAY_ADDRESS` nor a `ray start`
  cluster of someone else on the machine is joined; every GPU of the machine is visible
  (num_gpus unset); GCS, raylet, object manager, agents and workers listen on 127.0.0.1 only;
  its processes carry a session marker recorded in the experiment folder (trainables.sessions).
- Joined (`--address HOST:PORT`, or `auto` only when typed): the address must answer within
  CONNECT_TIMEOUT_S, and one trial's resources must be grantable within `--schedule-timeout`
  seconds (default SCHEDULE_TIMEOUT_S; both in trainables.limits).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import ray

from dabs_lib.safe_io import kill_point
from trainables import sessions
from trainables.limits import CONNECT_TIMEOUT_S, SCHEDULE_TIMEOUT_S

if TYPE_CHECKING:
    from ray._private.worker import RayContext

REPO_ROOT = str(Path(__file__).resolve().parent.parent)
LOOPBACK = "127.0.0.1"
START_ATTEMPTS = 3  # private Ray starts tried: Ray gives a raylet a fixed 30 s to register


class ClusterError(ValueError):
    """The cluster cannot run the request (one line: what must hold, what was given, which flag)."""


@dataclass(frozen=True)
class TrialDemand:
    """What one trial asks of one node (Tune places each trial on a single node)."""

    cpus: float = 1.0
    gpus: float = 0.0

    def bundle(self) -> dict[str, float]:
        return {k: v for k, v in (("CPU", self.cpus), ("GPU", self.gpus)) if v}

    def __str__(self) -> str:
        return f"--cpus-per-trial {self.cpus:g} --gpus-per-trial {self.gpus:g}"


def detected_gpus() -> int:
    """GPUs a private Ray will see (it honours CUDA_VISIBLE_DEVICES, as torch does)."""
    import torch

    return torch.cuda.device_count()


def _check_shape(demand: TrialDemand) -> None:
    if demand.cpus <= 0 or demand.gpus < 0:
        raise ClusterError(f"--cpus-per-trial must be > 0 and --gpus-per-trial >= 0, but got {demand}")
    if demand.gpus > 1 and demand.gpus != int(demand.gpus):
        raise ClusterError(
            f"--gpus-per-trial must be a fraction below 1 or a whole number (Ray's rule), but got {demand.gpus:g}"
        )


def check_private(demand: TrialDemand, num_cpus: int = 0) -> None:
    """A trial must fit the private Ray: --num-cpus (default every core) and the detected GPUs."""
    _check_shape(demand)
    cpus = num_cpus or os.cpu_count() or 1
    where = f"--num-cpus {num_cpus}" if num_cpus else f"every core of this machine, {cpus}"
    if demand.cpus > cpus:
        raise ClusterError(
            f"--cpus-per-trial {demand.cpus:g} exceeds the private Ray's {cpus} CPUs ({where}); "
            "lower it, raise --num-cpus, or join a larger cluster with --address"
        )
    if demand.gpus:
        gpus = detected_gpus()
        if demand.gpus > gpus:
            raise ClusterError(
                f"--gpus-per-trial {demand.gpus:g} exceeds the {gpus} GPU(s) this machine has; "
                "lower it or join a cluster with GPUs with --address"
            )


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """The GCS at `address` must accept a connection (ray.init would retry for minutes otherwise)."""
    if address == "auto" or "://" in address:
        return  # `auto` finds a local cluster itself; ray:// is Ray Client, its own protocol
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ClusterError(f"--address must be HOST:PORT (as `ray start --head` prints it), but got {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ClusterError(
            f"--address {address}: no Ray cluster answers there within {timeout_s:g} s "
            f"({reason}); start one with `ray start --head` and pass the address it prints"
        ) from None


def check_before_start(demand: TrialDemand, address: str = "", num_cpus: int = 0) -> None:
    """Every check that needs no running Ray (the CLI runs it before writing anything)."""
    if address:
        _check_shape(demand)
        check_reachable(address)
    else:
        check_private(demand, num_cpus)


def wait_schedulable(demand: TrialDemand, address: str, timeout_s: float) -> None:
    """Reserve one trial's resources (a placement group, as Tune's trials use) and release them.
    A busy cluster gets `timeout_s` to free them; an autoscaler sees the demand and may add a node."""
    from ray.exceptions import GetTimeoutError
    from ray.util.placement_group import placement_group, remove_placement_group

    group = placement_group([demand.bundle()])
    try:
        ray.get(group.ready(), timeout=timeout_s)
    except GetTimeoutError:
        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
        largest = max(((r.get("CPU", 0), r.get("GPU", 0)) for r in nodes), default=(0, 0))
        raise ClusterError(
            f"--address {address}: no node could start one trial ({demand}) within {timeout_s:g} s; the largest "
            f"node has {largest[0]:g} CPUs and {largest[1]:g} GPUs. Lower the request, add nodes, or wait "
            f"longer with --schedule-timeout SECONDS"
        ) from None
    finally:
        remove_placement_group(group)


@contextlib.contextmanager
def _loopback_node() -> Iterator[None]:
    """On Linux, Ray replaces a node IP of 127.0.0.1 with the machine's routable address (it expects
    nodes to join), and its servers then listen on every interface. Its switch for a single-machine,
    loopback-only Ray (the default on macOS and Windows) is read once, at import, from
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER: flip it for this ray.init only."""
    from ray._private import ray_constants

    saved = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


def _quiet() -> None:
    """No Optuna "A new study created" lines, no Ray token banner: the progress lines say enough."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # our ProgressPrinter replaces Ray's tables
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    # Workers import the project from this checkout even when it is not installed.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")]))


def _init_private(num_cpus: int, session_id: str) -> RayContext:
    os.environ[sessions.MARKER] = session_id  # inherited by every Ray process started below
    try:
        kill_point("ray-starting")  # test-only: a Ctrl-C (`ray-starting:1:INT`) as Ray starts
        with _loopback_node():
            context = ray.init(
                address="local",
                num_cpus=num_cpus or os.cpu_count(),
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
                _node_ip_address=LOOPBACK,
            )
        kill_point("ray-start")  # test-only: Ray's processes run, the record holds only the session id
        return context  # type: ignore[return-value]  # declared BaseContext; a local start gives a RayContext
    except Exception:
        sessions.stop_session(session_id)  # a start that failed half-way leaves no process behind
        raise
    finally:
        os.environ.pop(sessions.MARKER, None)  # the driver itself is not part of the session


def _start_private(num_cpus: int, record_in: str) -> str:
    for attempt in range(START_ATTEMPTS):
        session_id = sessions.new_session_id()
        if record_in:  # before Ray starts: a kill during its start-up leaves what `sessions stop` needs
            sessions.write_record(record_in, session_id, {})
        try:
            context = _init_private(num_cpus, session_id)
            break
        except Exception as error:  # Ray gives its raylet a fixed 30 s to register; a busy machine can miss it
            if attempt + 1 == START_ATTEMPTS or "timed out during startup" not in str(error) or _SIGINTS:
                raise
            ray.shutdown()  # reset what the failed start set up in this process
    if context.address_info["node_ip_address"] != LOOPBACK:
        ray.shutdown()
        raise RuntimeError(
            f"Ray bound the private cluster to {context.address_info['node_ip_address']}, "
            f"not {LOOPBACK}: this Ray release changed how a node IP is chosen"
        )
    if record_in:
        sessions.write_record(
            record_in,
            session_id,
            {"session_dir": context.address_info["session_dir"], "gcs_address": context.address_info["gcs_address"]},
        )
    return session_id


@contextlib.contextmanager
def ray_session(
    address: str = "",
    num_cpus: int = 0,
    demand: TrialDemand | None = None,
    record_in: str = "",
    schedule_timeout_s: float = SCHEDULE_TIMEOUT_S,
) -> Iterator[None]:
    """A private local Ray (stopped on exit), or the cluster at `address` (left running).
    `record_in`: a local experiment folder that records the private Ray's session (for clean-up).
    `schedule_timeout_s`: how long a joined cluster gets to grant one trial's resources."""
    with _signal_handlers_kept():
        if ray.is_initialized():
            yield
            return
        with _private_or_joined(address, num_cpus, demand or TrialDemand(), record_in, schedule_timeout_s):
            yield


@contextlib.contextmanager
def _private_or_joined(
    address: str, num_cpus: int, demand: TrialDemand, record_in: str, schedule_timeout_s: float
) -> Iterator[None]:
    check_before_start(demand, address, num_cpus)
    _quiet()
    session_id = ""
    with _ray_logs_to(record_in) as route_logs:
        try:
            with _sigint_after():
                if address:
                    ray.init(address=address, log_to_driver=False, configure_logging=False)
                else:
                    session_id = _start_private(num_cpus, record_in)
            route_logs()
            if address:
                wait_schedulable(demand, address, schedule_timeout_s)
            yield
        finally:
            ray.shutdown()
            if session_id:  # what ray.shutdown leaves (dashboard and runtime-env agents after an early Ctrl-C)
                sessions.stop_session(session_id)


TUNE_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGUSR1") if hasattr(signal, name))


@contextlib.contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """Tune's fit installs its own SIGINT and SIGUSR1 handlers and leaves them installed when no
    signal came: in a Python session that ran a search, a later Ctrl-C only logged Tune's
    "ending Ray Tune run" and raised nothing. The caller's handlers are put back on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in TUNE_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:  # None: set from C code, not restorable from Python
                signal.signal(signum, handler)


_SIGINTS: list[int] = []  # Ctrl-Cs noted while Ray starts (_sigint_after); a noted one ends the start retries
DRIVER_LOG = "ray_driver.log"  # in the experiment folder: Ray's and Tune's own driver messages
RAY_LOGGERS = ("ray", "ray.tune", "ray.train")  # Ray gives each its own console handler


@contextlib.contextmanager
def _ray_logs_to(folder: str) -> Iterator[Callable[[], None]]:
    """Ray's and Tune's driver messages ("Trial task failed ..." with its traceback, "Resume experiment
    with: Tuner.restore(...)", "Failed to fetch metrics ...") go to `folder`/ray_driver.log, not the
    console: the progress lines say what happened in our words. Restored when the session ends."""
    target: logging.Handler = logging.NullHandler()
    if folder and os.path.isdir(folder):
        target = logging.FileHandler(os.path.join(folder, DRIVER_LOG))
    saved = [(log, list(log.handlers), log.propagate) for log in map(logging.getLogger, RAY_LOGGERS)]

    def route() -> None:
        for name in RAY_LOGGERS:
            log = logging.getLogger(name)
            kept = [h for h in log.handlers if not _console(h) and h is not target]
            log.handlers = kept + ([target] if name == "ray" else [])
            log.propagate = name != "ray"  # ray.tune and ray.train reach the file through "ray"

    route()
    try:
        yield route  # again once Ray started: ray.init(configure_logging=False) clears "ray"'s handlers,
        # and a logger without any then prints through logging.lastResort, on the console
    finally:
        for log, handlers, propagate in saved:
            log.handlers, log.propagate = handlers, propagate
        target.close()


def _console(handler: logging.Handler) -> bool:
    return isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)


@contextlib.contextmanager
def _sigint_after() -> Iterator[None]:
    """A Ctrl-C during Ray's start-up arrives inside Ray's extension code, which swallows the
    KeyboardInterrupt (the search went on as if nothing was pressed): note it, raise it once started."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SIGINTS.clear()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: _SIGINTS.append(signum))
    try:
        yield
    except Exception:
        if not _SIGINTS:
            raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if _SIGINTS:  # pressed during the start: honoured, whether the start succeeded or failed after it
        _SIGINTS.clear()
        raise KeyboardInterrupt
