"""Tasks that kill the worker process running them, to test what a run
does when a worker dies. Importable by the workers (the tests' folder is
on their path)."""

import os

import labrys


def check_or_die_once(path, marker, **options):
    """Kills its worker the first time any task runs (the marker file
    records it), then checks as labrys.check does."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return labrys.check(path, **options)
    os.close(fd)
    os._exit(1)


def die_on_shard(path, doomed, **options):
    """Kills its worker every time it is asked for shard `doomed`."""
    if options.get("shard") == doomed:
        os._exit(1)
    return labrys.check(path, **options)
