#!/usr/bin/env bash
# Whole-process timings of the release binary on the reference corpus and
# on generated histories. Usage: benches/whole-process.sh [CORPUS_DIR]
# (default: $LABRYS_CORPUS). Prints one line per run: seconds, peak RSS, and
# the exit status (0 valid, 1 invalid, 3 unknown: not decided in 10 s).
set -uo pipefail
cd "$(dirname "$0")/.."
corpus="${1:-${LABRYS_CORPUS:-}}"
cargo build --release --quiet || exit 2
bin=target/release/labrys
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

run() {
  local name="$1"; shift
  local limit=()
  [[ "$1" == check ]] && limit=(--timeout 10)
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$bin" "$@" "${limit[@]}" >"$tmp/out" 2>"$tmp/err"
  local code=$?
  read -r secs kb < <(tail -n 1 "$tmp/time")
  awk -v n="$name" -v s="$secs" -v k="$kb" -v c="$code" \
    'BEGIN { printf "%-48s %8.3f s %8.1f MB  exit %d\n", n, s, k / 1024, c }'
}

if [[ -n "$corpus" && -d "$corpus" ]]; then
  run "etcd: 103 files, linearizable" check --consistency linearizable "$corpus/etcd"
  run "etcd: 103 files, sequential" check --consistency sequential "$corpus/etcd"
  run "etcd: 103 files, all checkers" check "$corpus/etcd"
  run "kv: 6 files partitioned, linearizable" check --consistency linearizable --initial '""' "$corpus/kv"
  for f in c10-ok c10-bad c50-ok c50-bad; do
    run "kv: $f one object, linearizable" check --consistency linearizable --initial '""' --one-object "$corpus/kv/$f.txt"
  done
  run "kv: c50-bad report mode, linearizable" check --consistency linearizable --initial '""' --report-all "$corpus/kv/c50-bad.txt"
else
  echo "no corpus given: corpus timings skipped"
fi

"$bin" gen --model cas-register --ops 1000000 --clients 32 --crash-rate 0.01 --seed 1 >"$tmp/1m.jsonl"
run "gen 1M cas-register, 32 clients, 1% info" check --consistency linearizable "$tmp/1m.jsonl"
"$bin" gen --model cas-register --ops 1000000 --clients 32 --crash-rate 0.01 --seed 1 --stale-reads 1 >"$tmp/1m-stale.jsonl"
run "same with one stale read" check --consistency linearizable "$tmp/1m-stale.jsonl"
run "parse only (stats) of the 1M history" stats "$tmp/1m.jsonl"
