#!/usr/bin/env bash
# Instruction profile of zgate under one benchmark scenario (valgrind --tool=callgrind): instruction counts do
# not depend on the machine's load, so they are the figures to compare before and after a change.
#
#   bench/profile.sh topics|topics8|topics-curve|topics8-curve|queues|queues-v2w|queues-v1|rooms|rooms1000|ws8|ws8-secure|
#                    ws8-history|ws8-lossless|ws100-lossless|ws-publish [COUNT [SIZE]]
#
# topics-curve and topics8-curve are topics and topics8 over CURVE with permissions, as bench/run.sh's CURVE
# rows (fresh keys from zgate-keygen), at zgate's default I/O threads (one per two cores with CURVE);
# ZG_PROFILE_FLAGS="--server-io-threads 2" varies them.
# ws8-secure is ws8 with security on: a JWT on each upgrade and a permissions file's role checked on each
# subscribe; compare its instructions per message with ws8's. ws8-history is ws8 with history on for the bench
# topic (topics/history). topics, topics8, ws8-lossless and ws100-lossless are unpaced and lossless as
# bench/run.sh's headline rows (the publisher at most a window of messages ahead of the slowest subscriber,
# zg_bench --ahead, at zgate's default limits): compare ws8-lossless and ws100-lossless with and without
# ZGATE_TOPICS_HISTORY="bench.* 1000" (and ZGATE_TOPICS_DATA_DIR=DIR for history on disk) in the environment.
# ws-publish is 4 web clients publishing (bench/ws_publish.py: msgpack, at most 100 unanswered each), no subscriber:
# what a web publish costs, the gateway's parse and send and the topics actor's read.
# queues has its workers and its producer speak the queue protocol version 2 (DELIVERS and ACKS, SENDS and
# REPLIES batches), queues-v2w version 2 workers and a version 1 producer (a SEND and a REPLY per task),
# queues-v1 version 1 on both sides (a DELIVER and an ACK per task too): compare their instructions per task.
# ZG_PROFILE_FLAGS adds zgate flags (split on blanks) to any scenario.
# Builds RelWithDebInfo into build-bench-prof, runs zgate under callgrind on free loopback ports, drives it
# with zg_bench (COUNT messages, tasks or rounds of SIZE bytes, default 64), stops it, and prints zgate's
# instructions per operation and its most expensive functions. The profile stays in
# build-bench-prof/callgrind.<scenario>.out.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-bench-prof
SCENARIO=${1:-}
# shellcheck source=bench/zgate_lib.sh
source "$ROOT/bench/zgate_lib.sh"
zgate_build "$BUILD" RelWithDebInfo
WORK=$(mktemp -d /tmp/zgate-profile.XXXXXX)
trap 'zgate_stop; rm -rf "$WORK"' EXIT

DRIVER=$GEN
ZGATE_FLAGS=()
case $SCENARIO in
    topics) count=${2:-200000}
        args=(topics --endpoint @topics-publishers@ --endpoint2 @topics-subscribers@ --clients 1 --count "$count"
              --ahead 4000) ;;
    topics8) count=${2:-50000}
        args=(topics --endpoint @topics-publishers@ --endpoint2 @topics-subscribers@ --clients 8 --count "$count"
              --ahead 4000) ;;
    topics-curve|topics8-curve) clients=$([ "$SCENARIO" = topics-curve ] && echo 1 || echo 8)
        count=${2:-$((100000 / clients))}
        curve_setup "$WORK"
        ZGATE_FLAGS=(--security-server-cert "$WORK/keys/server.cert_secret" --security-client-certs "$WORK/clients"
                     --security-permissions "$WORK/permissions.cfg")
        args=(topics --endpoint @topics-publishers@ --endpoint2 @topics-subscribers@ --clients "$clients"
              --count "$count" --ahead 4000 --server-cert "$WORK/keys/server.cert"
              --client-cert "$WORK/keys/bench.cert_secret") ;;
    queues|queues-v2w|queues-v1) count=${2:-50000}
        args=(queues --endpoint @queues-producers@ --endpoint2 @queues-workers@ --clients 4 --prefetch 100
              --window 1000 --count "$count" --protocol "$([ "$SCENARIO" = queues-v1 ] && echo 1 || echo 2)"
              --producer-protocol "$([ "$SCENARIO" = queues ] && echo 2 || echo 1)") ;;
    rooms) count=${2:-20000}
        args=(rooms --endpoint @rooms-clients@ --clients 1 --count "$count") ;;
    rooms1000) count=${2:-200}
        args=(rooms --endpoint @rooms-clients@ --clients 1000 --count "$count") ;;
    ws8) count=${2:-20000}
        DRIVER=$BUILD/bench/zg_bench_ws
        # Paced below the gateway's limit, so that every message is delivered and costs what it should
        args=(topics --url "ws://127.0.0.1:@gateway-http-port@/ws" --endpoint @topics-publishers@ --clients 8
              --count "$count" --rate 2000) ;;
    ws8-secure) count=${2:-20000}
        DRIVER=$BUILD/bench/zg_bench_ws
        printf 'grants\n    bench-role\n        topics\n            subscribe = bench.*\n' > "$WORK/permissions.cfg"
        ZGATE_FLAGS=(--security-jwt-secret bench-secret --security-permissions "$WORK/permissions.cfg")
        ZG_BENCH_TOKEN=$(bench_jwt)
        export ZG_BENCH_TOKEN
        args=(topics --url "ws://127.0.0.1:@gateway-http-port@/ws" --endpoint @topics-publishers@ --clients 8
              --count "$count" --rate 2000) ;;
    ws8-history) count=${2:-20000}
        DRIVER=$BUILD/bench/zg_bench_ws
        ZGATE_FLAGS=(--topics-history "bench.* 1000")
        args=(topics --url "ws://127.0.0.1:@gateway-http-port@/ws" --endpoint @topics-publishers@ --clients 8
              --count "$count" --rate 2000) ;;
    ws8-lossless|ws100-lossless) clients=${SCENARIO%-lossless}
        clients=${clients#ws}
        count=${2:-$((400000 / clients))}
        DRIVER=$BUILD/bench/zg_bench_ws
        args=(topics --url "ws://127.0.0.1:@gateway-http-port@/ws" --endpoint @topics-publishers@
              --clients "$clients" --count "$count" --ahead 4000) ;;
    ws-publish) count=${2:-20000}
        DRIVER=$ROOT/bench/ws_publish.py
        args=(--url "ws://127.0.0.1:@gateway-http-port@/ws" --clients 4 --count "$count") ;;
    *) echo "usage: bench/profile.sh topics|topics8|topics-curve|topics8-curve|queues|queues-v2w|queues-v1|rooms" \
            "|rooms1000|ws8|ws8-secure|ws8-history|ws8-lossless|ws100-lossless|ws-publish [COUNT [SIZE]]" >&2
       exit 2 ;;
esac

OUT=$BUILD/callgrind.$SCENARIO.out
ZG_WRAPPER=(valgrind --tool=callgrind --callgrind-out-file="$OUT")
read -ra extra_flags <<< "${ZG_PROFILE_FLAGS:-}"
zgate_start "${ZGATE_FLAGS[@]}" "${extra_flags[@]}"
mapfile -t args < <(expand "${args[@]}")
"$DRIVER" "${args[@]}" --size "${3:-64}" --timeout 120000
zgate_stop

total=$(callgrind_annotate "$OUT" 2> /dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "zgate: $total instructions for $count operations (plus start-up and warm-up):" \
     "$((total / count)) per operation"
echo "zgate's own functions and the library calls they make, inclusive:"
callgrind_annotate --inclusive=yes "$OUT" 2> /dev/null \
    | grep -E '^ *[0-9,]+ \( *[0-9.]+%\)  \S+ \[/' \
    | grep -E '(zg_[a-z_]+\.c:|snprintf|msgpack|json_|zhashx_|zmq_msg_send|zmq_msg_recv|zmq_send |zmq_poll|lws_)' \
    | head -30
echo "full profile: callgrind_annotate --inclusive=yes $OUT"
