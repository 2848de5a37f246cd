"""labrys.check on paths, op lists and recorders gives the command
line's report; input errors raise HistoryError."""

import json
import threading
import time

import pytest

import labrys
from conftest import without_times


@pytest.fixture(scope="module")
def histories(tmp_path_factory):
    d = tmp_path_factory.mktemp("histories")
    valid = labrys.gen(d / "valid.jsonl", model="kv", keys=8, ops=400, clients=5,
                       crash_rate=0.02, seed=7)
    stale = labrys.gen(d / "stale.jsonl", model="kv", keys=8, ops=400, clients=5,
                       stale_reads=3, seed=8)
    return {"valid": valid, "stale": stale}


@pytest.mark.parametrize("name", ["valid", "stale"])
def test_a_path_gives_the_command_lines_report(cli, histories, name):
    path = histories[name]
    mine = labrys.check(path, report_all=True)
    theirs = cli("check", "--report-all", "--format", "json", path)
    assert without_times(mine) == without_times(theirs)
    assert mine["valid"] is (name == "valid") or mine["valid"] == "unknown"
    if name == "stale":
        assert mine["files"][0]["checks"]["linearizable"]["valid"] is False


def test_an_op_list_gives_the_command_lines_report(cli, histories):
    ops = [json.loads(line) for line in open(histories["stale"])]
    mine = labrys.check(ops, report_all=True)
    theirs = cli("check", "--report-all", "--format", "json", histories["stale"])
    assert mine["files"][0]["path"] == "<ops>"
    mine["files"][0]["path"] = theirs["files"][0]["path"]
    assert without_times(mine) == without_times(theirs)


def test_generated_ops_come_back_as_dicts_with_jepsen_names():
    ops = labrys.gen(model="register", ops=10, seed=1)
    assert len(ops) == 20
    assert {"type", "process", "f", "value"} <= set(ops[0])
    assert labrys.check(ops, consistency=["linearizable"])["valid"] is True


def test_ops_with_string_processes_and_none_values():
    ops = [
        {"type": "invoke", "process": "c1", "f": "write", "value": 1, "time": 10},
        {"type": "ok", "process": "c1", "f": "write", "value": 1, "time": 20},
        {"type": "invoke", "process": "c2", "f": "read", "value": None, "time": 30},
        {"type": "ok", "process": "c2", "f": "read", "value": None, "time": 40},
    ]
    report = labrys.check(ops, consistency=["linearizable"])
    assert report["valid"] is False
    minimal = report["files"][0]["checks"]["linearizable"]["evidence"]["partitions"][0]
    assert minimal["evidence"]["op"]["process"] == "c2"


def test_a_recorder_gives_the_command_lines_report(cli, tmp_path):
    h = labrys.Recorder(tmp_path / "h.jsonl")
    for i in range(20):
        w = h.invoke(i % 3, "write", i, key=i % 4)
        h.ok(w)
        r = h.invoke(3, "read", None, key=i % 4)
        h.ok(r, i if i % 7 else i - 1)
    h.close()
    mine = h.check(report_all=True)
    theirs = cli("check", "--report-all", "--format", "json", tmp_path / "h.jsonl")
    assert without_times(mine) == without_times(theirs)
    assert mine["files"][0]["checks"]["linearizable"]["valid"] is False
    memory = labrys.Recorder()
    w = memory.invoke(0, "write", 1)
    memory.ok(w)
    assert labrys.check(memory, consistency="linearizable")["valid"] is True


def test_a_bad_op_raises_history_error_with_its_place():
    ops = [
        {"type": "invoke", "process": 0, "f": "write", "value": 1},
        {"type": "ok", "process": 0, "f": "write", "value": 1},
        {"process": 0, "f": "read", "value": None},
    ]
    with pytest.raises(labrys.HistoryError) as e:
        labrys.check(ops)
    assert (e.value.path, e.value.line) == ("<ops>", 3)
    assert e.value.column is not None
    assert "type" in e.value.message


def test_a_bad_file_raises_history_error_naming_it(tmp_path):
    path = tmp_path / "bad.edn"
    path.write_text('{:type :invoke, :process 0, :f :write, :value 1}\n{:type :ok :process}\n')
    with pytest.raises(labrys.HistoryError) as e:
        labrys.check(path)
    assert e.value.path == str(path)
    assert e.value.line == 2 and e.value.column is not None
    assert str(path) in str(e.value)


def test_html_writes_the_command_lines_page(histories, tmp_path):
    page = tmp_path / "report.html"
    report = labrys.check(histories["stale"], html=page, consistency=["linearizable"])
    assert report["valid"] is False
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert f" {histories['stale']}</h2>" in text
    # The history's timeline is embedded for the page's script to draw,
    # with the failing op marked.
    assert '<script type="application/json" class="view">' in text
    assert '"failing"' in text
    # A page that cannot be written is an error, not a silent skip.
    with pytest.raises(OSError, match="html"):
        labrys.check(histories["valid"], html=tmp_path / "missing" / "r.html")


def test_unknown_options_are_refused(histories):
    with pytest.raises(TypeError):
        labrys.check(histories["valid"], colour=True)
    with pytest.raises(ValueError, match="sequential"):
        labrys.check(histories["valid"], shard="0/2", consistency=["sequential"])


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """A history whose check takes a while: many keys, many ops."""
    path = tmp_path_factory.mktemp("slow") / "slow.jsonl"
    return labrys.gen(path, model="kv", keys=2000, ops=200_000, clients=10, crash_rate=0.01,
                      seed=3)


def test_the_gil_is_released_while_checking(slow):
    ticks = []
    done = threading.Event()

    def checker():
        labrys.check(slow, consistency=["linearizable", "convergence"])
        done.set()

    t = threading.Thread(target=checker)
    started = time.monotonic()
    t.start()
    while not done.is_set():
        ticks.append(time.monotonic())
        time.sleep(0.005)
    t.join()
    elapsed = time.monotonic() - started
    assert elapsed > 0.3, "the check was too quick to tell"
    # Another Python thread kept running all along.
    assert len(ticks) > elapsed / 0.005 / 4
    assert max(b - a for a, b in zip(ticks, ticks[1:])) < 0.25


def test_a_timeout_gives_unknown_never_valid(slow):
    report = labrys.check(slow, consistency=["sequential"], timeout=0.2)
    assert report["valid"] == "unknown"


def test_ctrl_c_stops_the_check_with_unknown(slow):
    import _thread
    import signal

    # A process started in the background of a non-interactive shell
    # inherits SIGINT ignored, and then interrupt_main does nothing: the
    # test installs Python's own handler, as an interactive session has.
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        started = time.monotonic()
        # The timeout only bounds the test, should the interrupt be lost.
        report = labrys.check(slow, consistency=["sequential"], timeout=120)
        elapsed = time.monotonic() - started
        timer.join()
    finally:
        signal.signal(signal.SIGINT, saved)
    assert report["valid"] == "unknown"
    assert report["files"][0]["checks"]["sequential"]["summary"] == "undecided: cancelled"
    assert elapsed < 30
