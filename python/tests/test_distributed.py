"""labrys.distributed on a real LocalCluster with two worker processes."""

import os

import pytest

import labrys
from conftest import without_times

distributed = pytest.importorskip("dask.distributed")
from labrys.distributed import check_many, check_sharded  # noqa: E402

import killer  # noqa: E402


@pytest.fixture(scope="module")
def client():
    import dask

    # The workers import the tests' helpers (killer), restarted ones too.
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH")) if p)
    # A task whose worker died once more than this is given up. Each
    # worker holds one task at a time (saturation 1.0): a worker killed by
    # its task takes no queued bystander down with it, so the tests know
    # which shards can be lost.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.scheduler.worker-saturation": 1.0}):
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                           dashboard_address=None)
        c = distributed.Client(cluster)
        yield c
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def histories(tmp_path_factory):
    d = tmp_path_factory.mktemp("keyed")
    return {
        "valid": labrys.gen(d / "valid.jsonl", model="kv", keys=30, ops=3000, clients=8,
                            crash_rate=0.01, seed=21),
        "stale": labrys.gen(d / "stale.jsonl", model="kv", keys=30, ops=3000, clients=8,
                            stale_reads=5, seed=22),
        "dropped": labrys.gen(d / "dropped.jsonl", mode="replicated", model="kv", keys=30,
                              ops=3000, dropped_writes=0.05, seed=23),
    }


@pytest.mark.parametrize("name", ["valid", "stale", "dropped"])
@pytest.mark.parametrize("shards", [2, 3])
def test_sharded_equals_one_process(client, histories, name, shards):
    path = histories[name]
    local = ["linearizable", "convergence"]
    single = labrys.check(path, report_all=True, consistency=local)
    merged = check_sharded(path, shards=shards, client=client, report_all=True,
                           consistency=local)
    assert without_times(merged) == without_times(single)
    if name != "valid":
        assert merged["valid"] is False


def test_sequential_is_checked_once_over_the_whole_history(client, tmp_path):
    # Small: the sequential search of a whole invalid history is costly.
    path = labrys.gen(tmp_path / "small.jsonl", model="kv", keys=4, ops=200, clients=4,
                      stale_reads=2, seed=5)
    single = labrys.check(path, report_all=True)
    merged = check_sharded(path, shards=2, client=client, report_all=True)
    checks, whole = merged["files"][0]["checks"], single["files"][0]["checks"]
    assert set(checks) == {"linearizable", "sequential", "convergence"}
    for c in ("linearizable", "convergence"):
        assert without_times(checks[c]) == without_times(whole[c])
    assert checks["sequential"]["valid"] == whole["sequential"]["valid"]
    assert merged["valid"] == single["valid"]


def test_many_histories_give_one_report(client, histories):
    paths = [histories["valid"], histories["stale"]]
    report = check_many(paths, client=client, consistency=["linearizable"])
    assert [f["path"] for f in report["files"]] == [str(p) for p in paths]
    assert report["valid"] is False
    assert [f["valid"] for f in report["files"]] == [True, False]


def test_a_worker_killed_once_is_retried(client, histories, tmp_path):
    path = histories["valid"]
    local = ["linearizable", "convergence"]
    single = labrys.check(path, report_all=True, consistency=local)
    merged = check_sharded(path, shards=2, client=client, report_all=True, consistency=local,
                           task=killer.check_or_die_once, marker=str(tmp_path / "died"))
    assert (tmp_path / "died").exists(), "a worker died"
    assert without_times(merged) == without_times(single)


def test_a_shard_whose_worker_always_dies_is_unknown_never_valid(client, histories):
    path = histories["valid"]
    report = check_sharded(path, shards=2, client=client, report_all=True,
                           consistency=["linearizable", "convergence"], task=killer.die_on_shard,
                           doomed="1/2")
    assert labrys.check(path, consistency=["linearizable"])["valid"] is True
    assert report["valid"] == "unknown"
    assert report["lost"] == ["1/2"]
    assert report["files"][0]["valid"] == "unknown"
