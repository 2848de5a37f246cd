"""labrys: check Jepsen-style histories from Python.

A history is what a test recorded: every operation's invocation and
completion, from every client. :func:`check` decides whether it is
linearizable, sequentially consistent and eventually convergent, and
returns the report ``labrys check --format json`` prints, as Python data::

    >>> import labrys
    >>> ops = [
    ...     {"type": "invoke", "process": 0, "f": "write", "value": 1},
    ...     {"type": "ok", "process": 0, "f": "write", "value": 1},
    ...     {"type": "invoke", "process": 1, "f": "read", "value": None},
    ...     {"type": "ok", "process": 1, "f": "read", "value": 1},
    ... ]
    >>> report = labrys.check(ops, consistency=["linearizable"])
    >>> report["valid"]
    True

A harness records its operations with a :class:`Recorder`; :func:`gen`
generates histories; :func:`merge` merges the reports of shards
(``labrys.distributed`` checks histories on a Dask cluster).
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from . import _native

__all__ = ["check", "gen", "merge", "Recorder", "HistoryError"]

Source = Union[str, "os.PathLike[str]", Sequence[Mapping[str, Any]], "Recorder"]


class HistoryError(ValueError):
    """A history that could not be read: bad syntax, a malformed op, a
    model that cannot be inferred.

    ``path`` names the file (``"<ops>"`` for a list of ops), ``line`` and
    ``column`` are 1-based (``None`` when unknown; for a list of ops, the
    line is the op's place in the list, from 1), ``message`` says what was
    wrong.
    """

    def __init__(self, message: str, path: Optional[str] = None,
                 line: Optional[int] = None, column: Optional[int] = None):
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        where = path or ""
        if line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {message}" if where else message)


def _jsonl(ops: Iterable[Mapping[str, Any]]) -> str:
    """The ops as JSON Lines, one op a line."""
    return "".join(json.dumps(dict(op), separators=(",", ":")) + "\n" for op in ops)


def _options(model, consistency, timeout, report_all, max_memory, shard, extra) -> dict:
    if isinstance(consistency, str):
        consistency = [consistency]
    if isinstance(shard, tuple):
        shard = f"{shard[0]}/{shard[1]}"
    options = dict(extra)
    options.update(model=model, consistency=list(consistency) if consistency else None,
                   timeout=timeout, report_all=report_all, max_memory=max_memory,
                   shard=shard)
    if "shrink" in options:
        options["no_shrink"] = not options.pop("shrink")
    known = {"model", "consistency", "timeout", "report_all", "max_memory", "shard",
             "initial", "nil_read", "failed_cas", "allow_empty", "clock_uncertainty",
             "one_object", "no_shrink", "final_reads", "settle", "nodes", "sessions",
             "input_format", "independent", "nemesis"}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"check() got unexpected options: {', '.join(sorted(unknown))}")
    return options


def check(source: Source, model: Optional[str] = None,
          consistency: Optional[Sequence[str]] = None, timeout: Optional[float] = None,
          report_all: bool = False, max_memory: Union[int, str, None] = None,
          html: Union[str, "os.PathLike[str]", None] = None,
          shard: Union[str, tuple, None] = None, **options: Any) -> dict:
    """Checks a history and returns its report, the document ``labrys
    check --format json`` prints, as Python data (``valid`` is ``True``,
    ``False`` or ``"unknown"`` at every level).

    ``source`` is a path to a history file (EDN, Jepsen text, JSON or
    JSON Lines), a list of op dicts with Jepsen's field names (``type``,
    ``f``, ``value``, ``process``, ``time``, ``index``, ``key``; ``None``
    for nil; process ids ints or strings), or a :class:`Recorder`.

    The options are the command line's, by name: ``model`` (inferred when
    ``None``), ``consistency`` (the checkers named, from
    ``"linearizable"``, ``"sequential"``, ``"convergence"``; ``None`` runs
    every one, as a plain ``labrys check``), ``timeout`` (seconds: what is
    undecided by then is unknown), ``report_all``, ``max_memory`` (bytes,
    or ``"512M"``), ``shard`` (``"I/N"`` or ``(I, N)``: only that shard of
    the keys), and ``initial`` (EDN), ``nil_read``, ``failed_cas``,
    ``allow_empty``, ``clock_uncertainty`` (ns), ``one_object``,
    ``shrink``, ``final_reads``, ``settle``, ``nodes``, ``sessions``,
    ``input_format``, ``independent``, ``nemesis`` (a list). ``html``
    (a path) also writes the HTML report, as ``labrys check --html`` does.

    The GIL is released while checking. Ctrl-C stops the check: the
    report then says unknown for whatever was not decided. Raises
    :class:`HistoryError` when the history cannot be read.
    """
    opts = _options(model, consistency, timeout, report_all, max_memory, shard, options)
    if html is not None:
        opts["html"] = os.fspath(html)
    if isinstance(source, Recorder):
        return source.check(**opts)
    if isinstance(source, (str, os.PathLike)):
        text = _native.check("path", os.fspath(source), os.fspath(source), opts)
    else:
        text = _native.check("text", _jsonl(source), "<ops>", opts)
    return json.loads(text)


def merge(reports: Sequence[Union[Mapping[str, Any], str]]) -> dict:
    """Merges reports (as :func:`check` returns them, or their JSON): the
    shards of a history, and reports of other checkers over the whole
    history, into the report of one run, as ``labrys merge`` does. Raises
    ``ValueError`` when a shard is missing or the reports are not of the
    same files."""
    texts = [r if isinstance(r, str) else json.dumps(r) for r in reports]
    return json.loads(_native.merge_reports(texts))


def gen(path: Union[str, "os.PathLike[str]", None] = None, **options: Any):
    """Generates a history from a seeded simulation, as ``labrys gen``
    does, with its options by name: ``mode`` (``"atomic"``, ``"sc"``,
    ``"replicated"``), ``model``, ``ops``, ``clients``, ``seed``,
    ``keys``, ``values``, ``unique_values``, ``mix``, ``latency``,
    ``latency_spread``, ``crash_rate``, ``replicas``,
    ``replication_delay``, ``partitions``, ``clock_skew`` and the fault
    knobs ``stale_reads``, ``lost_writes``, ``duplicated_effects``,
    ``reordered_effects``, ``read_behind_own_write``, ``dropped_writes``
    (a probability such as ``0.01``, or a count such as ``3``).

    Returns the history as a list of op dicts, or, given ``path``, writes
    it there as JSON Lines (EDN with ``format="edn"``) and returns the
    path.
    """
    for knob in ("stale_reads", "lost_writes", "duplicated_effects", "reordered_effects",
                 "read_behind_own_write", "dropped_writes"):
        if isinstance(options.get(knob), float):
            options[knob] = repr(options[knob])
    text = _native.generate(options)
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path
    return [json.loads(line) for line in text.splitlines() if line]


class Recorder:
    """Records a harness's operations as a history, thread-safely.

    >>> h = Recorder()
    >>> op = h.invoke(0, "write", 3)
    >>> h.ok(op)
    >>> op = h.invoke(1, "read")
    >>> h.ok(op, 3)
    >>> h.check(consistency=["linearizable"])["valid"]
    True

    ``invoke`` returns a handle for the operation; ``ok``, ``fail`` and
    ``info`` complete it (an ``info`` or an operation never completed is
    indeterminate: it may have taken effect or not). Times come from
    ``time.monotonic_ns()``. With a ``path``, every event is appended to
    that file as a JSON Lines record and flushed at once, so nothing
    recorded is lost if the harness dies; the file is a history labrys
    reads. Without one, the events are kept in memory.
    """

    def __init__(self, path: Union[str, "os.PathLike[str]", None] = None):
        self.path = os.fspath(path) if path is not None else None
        self._lock = threading.Lock()
        self._events: list = []
        self._file = open(self.path, "a", encoding="utf-8") if self.path else None
        self._index = 0

    def _append(self, event: dict) -> None:
        with self._lock:
            event["time"] = time.monotonic_ns()
            event["index"] = self._index
            self._index += 1
            if self._file is not None:
                self._file.write(json.dumps(event, separators=(",", ":")) + "\n")
                self._file.flush()
            else:
                self._events.append(event)

    def invoke(self, process: Union[int, str], f: str, value: Any = None, **fields: Any) -> dict:
        """Records the invocation of ``f`` with ``value`` by ``process``
        (extra fields such as ``key`` are kept) and returns its handle."""
        event = {"type": "invoke", "process": process, "f": f, "value": value, **fields}
        self._append(dict(event))
        return event

    def _complete(self, kind: str, op: dict, value: Any) -> None:
        event = dict(op, type=kind)
        if value is not None:
            event["value"] = value
        self._append(event)

    def ok(self, op: dict, value: Any = None) -> None:
        """The operation took effect; ``value`` is what it returned (a
        read's value), else its invocation's value is kept."""
        self._complete("ok", op, value)

    def fail(self, op: dict) -> None:
        """The operation certainly did not take effect."""
        self._complete("fail", op, None)

    def info(self, op: dict) -> None:
        """The operation's outcome is unknown (a timeout, a crash)."""
        self._complete("info", op, None)

    def close(self) -> None:
        """Closes the file; recording further events is an error."""
        with self._lock:
            if self._file is not None:
                self._file.close()

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def check(self, **options: Any) -> dict:
        """Checks what was recorded so far: :func:`check` with these
        options."""
        with self._lock:
            events = list(self._events)
        if self.path is not None:
            return check(self.path, **options)
        return check(events, **options)
