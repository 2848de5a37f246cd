import os
from typing import Any, Mapping, Optional, Sequence, Union

from . import distributed as distributed

Report = dict[str, Any]
PathLike = Union[str, os.PathLike[str]]

class HistoryError(ValueError):
    message: str
    path: Optional[str]
    line: Optional[int]
    column: Optional[int]
    def __init__(self, message: str, path: Optional[str] = ..., line: Optional[int] = ...,
                 column: Optional[int] = ...) -> None: ...

class Recorder:
    path: Optional[str]
    def __init__(self, path: Optional[PathLike] = ...) -> None: ...
    def invoke(self, process: Union[int, str], f: str, value: Any = ..., **fields: Any) -> dict[str, Any]: ...
    def ok(self, op: Mapping[str, Any], value: Any = ...) -> None: ...
    def fail(self, op: Mapping[str, Any]) -> None: ...
    def info(self, op: Mapping[str, Any]) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Recorder: ...
    def __exit__(self, *exc: Any) -> None: ...
    def check(self, **options: Any) -> Report: ...

def check(
    source: Union[PathLike, Sequence[Mapping[str, Any]], Recorder],
    model: Optional[str] = ...,
    consistency: Optional[Sequence[str]] = ...,
    timeout: Optional[float] = ...,
    report_all: bool = ...,
    max_memory: Union[int, str, None] = ...,
    html: Optional[PathLike] = ...,
    shard: Union[str, tuple[int, int], None] = ...,
    *,
    initial: str = ...,
    nil_read: str = ...,
    failed_cas: str = ...,
    allow_empty: bool = ...,
    clock_uncertainty: int = ...,
    one_object: bool = ...,
    shrink: bool = ...,
    final_reads: str = ...,
    settle: int = ...,
    nodes: Optional[int] = ...,
    sessions: str = ...,
    input_format: Optional[str] = ...,
    independent: bool = ...,
    nemesis: Sequence[str] = ...,
) -> Report: ...

def merge(reports: Sequence[Union[Mapping[str, Any], str]]) -> Report: ...

def gen(path: Optional[PathLike] = ..., **options: Any) -> Any: ...
