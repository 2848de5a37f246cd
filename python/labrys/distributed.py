"""Checking histories on a Dask cluster.

Dask's ``distributed`` scheduler is plain Python, installs with pip, and
runs the same code on a ``LocalCluster`` of worker processes on one
machine and on a cluster of many. labrys needs no more of an engine than
that: each task reads a history file the workers can all see and returns
a report of a few kilobytes, so Ray's object store and actors would add
weight and serve nothing here.

Two ways to fan out:

- :func:`check_many`: many histories, one task each, one report at the
  end (the files in the order given);
- :func:`check_sharded`: one large keyed history, split by key.
  Linearizability and convergence are local to a key, so each shard
  ``I/N`` of the keys is checked by its own task, and the reports are
  merged (:func:`labrys.merge`) into the report a single process gives
  with ``report_all=True``. Sequential consistency is not local to a key:
  when asked for, it is checked once, over the whole history, by one
  task.

A task whose worker dies is retried by Dask on another worker (up to
``retries`` times); a shard whose retries are all spent is reported
unknown, never valid.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional, Sequence

from . import check, merge

__all__ = ["check_many", "check_sharded"]

_CHECKERS = ("linearizable", "sequential", "convergence")


def _client(client):
    if client is not None:
        return client
    from dask.distributed import get_client
    return get_client()


def _gather(client, futures) -> list:
    """The tasks' results, or for a task whose retries were spent, its
    exception."""
    from dask.distributed import wait
    wait(futures)
    out = []
    for f in futures:
        try:
            out.append(f.result())
        except Exception as e:  # noqa: BLE001 - a lost task is a result
            out.append(e)
    return out


def check_many(paths: Sequence[str], client=None, retries: int = 2,
               task: Optional[Callable[..., dict]] = None, **options: Any) -> dict:
    """Checks each history on the cluster's workers and returns one report,
    as ``labrys check`` over all the files gives (the top-level ``valid``
    combines them). A file whose task failed every try appears with an
    ``error`` and valid ``"unknown"``. ``task`` is as for
    :func:`check_sharded`."""
    client = _client(client)
    paths = [os.fspath(p) for p in paths]
    task = task or check
    futures = [client.submit(task, p, pure=False, retries=retries, **options) for p in paths]
    files = []
    for path, r in zip(paths, _gather(client, futures)):
        if isinstance(r, Exception):
            files.append({"path": path, "valid": "unknown",
                          "error": {"message": f"not checked: {r!r}", "line": None,
                                    "column": None}})
        else:
            files.extend(r["files"])
    return _combine(files)


def _combine(files: list) -> dict:
    verdicts = [f["valid"] for f in files]
    if False in verdicts:
        valid: Any = False
    elif all(v is True for v in verdicts):
        valid = True
    else:
        valid = "unknown"
    return {"valid": valid, "files": files}


def check_sharded(path: str, shards: int, client=None, retries: int = 2,
                  consistency: Optional[Sequence[str]] = None,
                  task: Optional[Callable[..., dict]] = None, **options: Any) -> dict:
    """Checks one keyed history split into ``shards`` shards of its keys,
    each on a worker, and returns the merged report: with
    ``report_all=True``, the report of :func:`labrys.check` on the whole
    history in one process, times aside.

    ``consistency`` names the checkers as in :func:`labrys.check`
    (``None``: all three). Linearizability and convergence are checked
    shard by shard; sequential consistency, which is not local to a key,
    once over the whole history by one task (its section is that task's:
    the same verdict as in one process, though its ``decision`` is its own
    search's rather than the linearization's ``witness``).

    A shard whose task failed every try (its worker died each time) makes
    its checkers unknown for the whole history, never valid: the report's
    ``lost`` lists such tasks.

    ``task`` is the function each task runs, :func:`labrys.check` unless
    given (a wrapper that logs, or injects faults in tests); it is called
    with the path and the options."""
    client = _client(client)
    task = task or check
    path = os.fspath(path)
    named = list(consistency) if consistency else None
    local = [c for c in (named or _CHECKERS) if c != "sequential"]
    tasks = []
    if local:
        for i in range(shards):
            shard_consistency = named and local
            tasks.append((f"{i}/{shards}", client.submit(
                task, path, pure=False, retries=retries, shard=f"{i}/{shards}",
                consistency=shard_consistency, **options)))
    if named is None or "sequential" in named:
        tasks.append((None, client.submit(task, path, pure=False, retries=retries,
                                          consistency=["sequential"], **options)))
    results = _gather(client, [f for _, f in tasks])
    if not any(isinstance(r, Exception) for r in results):
        return merge(results)
    return _with_lost(path, tasks, results)


def _with_lost(path: str, tasks: list, results: list) -> dict:
    """The report when some tasks were lost for good: the file was not
    checked whole, so it is unknown, unless a task that ran found an
    anomaly (which no lost shard can undo): then it is invalid."""
    lost = [shard or "the whole history" for (shard, _), r in zip(tasks, results)
            if isinstance(r, Exception)]
    found = [r for r in results if not isinstance(r, Exception)]
    valid: Any = False if any(r["valid"] is False for r in found) else "unknown"
    why = (f"not checked whole: the task of {', '.join(lost)} failed on every try "
           f"({next(r for r in results if isinstance(r, Exception))!r})")
    return {"valid": valid, "files": [{"path": path, "valid": valid, "error": {
        "message": why, "line": None, "column": None}}],
        "lost": lost, "reports": found}
