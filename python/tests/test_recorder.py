"""A recorder's file survives its harness dying mid-run."""

import json
import signal
import subprocess
import sys
import textwrap
import time

import labrys

HARNESS = textwrap.dedent("""
    import sys, threading, labrys
    h = labrys.Recorder(sys.argv[1])
    def client(p):
        i = 0
        while True:
            op = h.invoke(p, "write", i, key=p)
            h.ok(op)
            op = h.invoke(p, "read", None, key=p)
            h.ok(op, i)
            i += 1
    for p in range(4):
        threading.Thread(target=client, args=(p,), daemon=True).start()
    print("recording", flush=True)
    threading.Event().wait()
""")


def test_a_killed_harness_leaves_a_history_that_loads(tmp_path):
    path = tmp_path / "h.jsonl"
    child = subprocess.Popen([sys.executable, "-c", HARNESS, str(path)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "recording"
    time.sleep(0.5)
    child.send_signal(signal.SIGKILL)
    child.wait()
    lines = path.read_text().splitlines()
    assert len(lines) > 100
    for line in lines:
        event = json.loads(line)  # every line written is whole
        assert {"type", "process", "f", "time", "index"} <= set(event)
    times = [json.loads(line)["time"] for line in lines]
    assert times == sorted(times), "times are monotonic in file order"
    report = labrys.check(path, consistency=["linearizable"])
    # Each client reads back its own key's last write; the ops in flight
    # when it died are indeterminate.
    assert report["valid"] is True
