#!/usr/bin/env bash
# zgate benchmarks: zgate against the transport's own limit, side by side, in one run.
#
#   bench/run.sh [--quick] [--runs N] [--only SECTIONS]
#
# Builds Release into build-bench, runs every scenario (raw libzmq baselines and the same traffic through a
# real zgate on free loopback ports), prints a table and writes bench/results/latest.md and latest.csv.
# --quick (CI's smoke test, under 2 minutes) runs each scenario once with small counts and fails only if a
# scenario whose component exists in this zgate (see `zgate --help`) produced no number; it never judges speed.
# A scenario whose component is absent is reported as "not available", never estimated.
# --only runs the raw baselines and the sections named (comma-separated: topics, curve, cluster, queues, durable,
# rooms, gateway), lists only the figures measured, and writes bench/results/partial.md and partial.csv instead.
#
# This file is the driver: the options, the build, then the sections in their order. Each section's scenarios
# and rows are in bench/sections/ (functions only, called from here); what they share (measurements, rows,
# targets, the report) is bench/run_lib.sh, and bench/zgate_lib.sh starts and stops zgate.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-bench
RESULTS=$ROOT/bench/results
QUICK=0
RUNS=3
ONLY=
while [ $# -gt 0 ]; do
    case $1 in
        --quick) QUICK=1; RUNS=1; shift ;;
        --runs) RUNS=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        *) echo "usage: bench/run.sh [--quick] [--runs N] [--only SECTIONS]" >&2; exit 2 ;;
    esac
done

# The libraries, then the sections, which only define functions (one by one, so that `shellcheck -x` follows each)
# shellcheck source=bench/zgate_lib.sh
source "$ROOT/bench/zgate_lib.sh"
# shellcheck source=bench/run_lib.sh
source "$ROOT/bench/run_lib.sh"
# shellcheck source=bench/sections/baseline.sh
source "$ROOT/bench/sections/baseline.sh"
# shellcheck source=bench/sections/topics.sh
source "$ROOT/bench/sections/topics.sh"
# shellcheck source=bench/sections/security.sh
source "$ROOT/bench/sections/security.sh"
# shellcheck source=bench/sections/cluster.sh
source "$ROOT/bench/sections/cluster.sh"
# shellcheck source=bench/sections/queues.sh
source "$ROOT/bench/sections/queues.sh"
# shellcheck source=bench/sections/durable.sh
source "$ROOT/bench/sections/durable.sh"
# shellcheck source=bench/sections/rooms.sh
source "$ROOT/bench/sections/rooms.sh"
# shellcheck source=bench/sections/ws.sh
source "$ROOT/bench/sections/ws.sh"
# shellcheck source=bench/sections/history.sh
source "$ROOT/bench/sections/history.sh"
# shellcheck source=bench/sections/http.sh
source "$ROOT/bench/sections/http.sh"
# shellcheck source=bench/sections/targets.sh
source "$ROOT/bench/sections/targets.sh"

echo "== building Release into $BUILD"
zgate_build "$BUILD" Release
GEN_WS=$BUILD/bench/zg_bench_ws
# Sessions and connections of the large scenarios need file descriptors
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/zgate-bench.XXXXXX)
cleanup() {
    zgate_stop
    cluster_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The sections in their order, which is the rows' order in the report; each skips itself where --only or this
# zgate's components say so
results_init
bench_topics        # topics.sh (topics): native topics, lossless, burst and paced
bench_raw           # baseline.sh (always): raw DEALER <-> ROUTER
rows_baseline
rows_topics
bench_curve         # security.sh (curve): topics over CURVE
bench_cluster       # cluster.sh (cluster): topics, queues and rooms across nodes
bench_queues        # queues.sh (queues)
bench_durable       # durable.sh (durable)
bench_rooms         # rooms.sh (rooms)
bench_gateway       # ws.sh (gateway): WebSocket, with security.sh, history.sh and http.sh
bench_targets       # targets.sh
write_results
if [ "$MISSING" -gt 0 ]; then
    echo "bench/run.sh: $MISSING figure(s) of available components produced no number" >&2
    exit 1
fi
