# bench/run.sh's cost of security (issue #10): topics over CURVE (the curve section, --only curve) and, in the
# gateway section (ws.sh runs it), the same WebSocket fan-out with a token and permissions against without.
# shellcheck shell=bash

# topics over CURVE (issue #10: at least 0.8 of raw libzmq CURVE, in the same run): PUB -> SUB with CURVE on both
# sides, raw (the generator's PUB is the CURVE server), through the raw zmq_proxy process (CURVE on both of its
# sides: the cost of any broker hop, which decrypts and encrypts again) and through zgate (every native endpoint
# CURVE, the client's key checked by zauth against security/client-certs, the permissions file asked on each
# publish and subscribe). All lossless with the same flow control as the plain topics rows (--ahead), at the
# default high-water marks. Each round runs raw and zgate one after the other (raw first in odd rounds, last in
# even ones) and each zgate row's ratio is the median of the rounds' ratios (pair_ratio), which a load that
# changes between runs moves less than a ratio of medians. The headline rows keep the generator at libzmq's
# default (1 I/O thread, as any raw PUB/SUB program) in both runs and zgate at its default server/io-threads
# (0: one per two cores with CURVE) or one per core; the "N I/O threads" rows give the generator, raw and
# through zgate, and zgate the same N (one per core).

# A lossless run fails when its slowest subscriber gets nothing for this long (ms): longer than the
# generator's default (1 s), which a machine loaded well beyond its cores can stall a process for
CURVE_IDLE=5000

# curve_raw key subs count io: one raw run, the generator with io I/O threads
curve_raw() {
    measure_raw "$1=rate" -- "$GEN" topics --clients "$2" --size 64 --count "$3" --ahead "$TOPICS_AHEAD" \
        --idle "$CURVE_IDLE" --io-threads "$4" --server-cert "$CURVE/keys/server.cert_secret" \
        --client-cert "$CURVE/keys/bench.cert_secret"
}

# curve_zgate key subs count io "zgate flags": one run through a fresh zgate (or the raw zmq_proxy process:
# measure_zgate's "proxy ..." flags), the generator as curve_raw's
curve_zgate() {
    measure_zgate "$1=rate" "$5" -- "$GEN" topics --endpoint @topics-publishers@ \
        --endpoint2 @topics-subscribers@ --clients "$2" --size 64 --count "$3" --server-pid @pid@ \
        --ahead "$TOPICS_AHEAD" --idle "$CURVE_IDLE" --io-threads "$4" --server-cert "$CURVE/keys/server.cert" \
        --client-cert "$CURVE/keys/bench.cert_secret"
}

# curve_pair round raw_key zgate_key subs count io "zgate flags": both, in the round's order, and their ratio
# (a round in which one of them failed has none); CURVE_RAW_BEFORE: raw_key's values before the round
curve_pair() {
    local raw_before zgate_before
    raw_before=$(values_of "$2")
    zgate_before=$(values_of "$3")
    if (( $1 % 2 )); then
        curve_raw "$2" "$4" "$5" "$6"
        curve_zgate "$3" "$4" "$5" "$6" "$7"
    else
        curve_zgate "$3" "$4" "$5" "$6" "$7"
        curve_raw "$2" "$4" "$5" "$6"
    fi
    pair_ratio "$3" "$2" "$zgate_before" "$raw_before"
    CURVE_RAW_BEFORE=$raw_before
}

bench_curve() {
    if ! section curve || ! grep -q -- "^  --security-server-cert " <<< "$HELP"; then
        row_unavailable "topics native, CURVE + permissions" "1->1 and 1->8, 64 B" "delivered msgs/s" security
        return 0
    fi
    CURVE=$WORK/curve
    curve_setup "$CURVE"
    local flags="--security-server-cert $CURVE/keys/server.cert_secret"
    flags+=" --security-client-certs $CURVE/clients --security-permissions $CURVE/permissions.cfg"
    local cores rounds subs count round percore_before
    cores=$(nproc)
    rounds=$(alternating_rounds)
    for subs in 1 8; do
        count=$(scaled "$([ $subs = 1 ] && echo 600000 || echo 150000)" 1000)
        banner "topics over CURVE 1->$subs 64 B, $count messages, $rounds alternating rounds"
        for round in $(seq "$rounds"); do
            curve_pair "$round" "raw.curve.$subs" "topics.curve.$subs" "$subs" "$count" 1 "$flags"
            if [ "$cores" -gt 1 ]; then
                # The same raw run is the base of zgate with one I/O thread per core
                percore_before=$(values_of "topics.curve.percore.$subs")
                curve_zgate "topics.curve.percore.$subs" "$subs" "$count" 1 "$flags --server-io-threads $cores"
                pair_ratio "topics.curve.percore.$subs" "raw.curve.$subs" "$percore_before" "$CURVE_RAW_BEFORE"
                curve_pair "$round" "raw.curve.io$cores.$subs" "topics.curve.io$cores.$subs" \
                    "$subs" "$count" "$cores" "$flags --server-io-threads $cores"
            fi
            curve_zgate "raw.proxy.curve.$subs" "$subs" "$count" 1 \
                "proxy --server-cert $CURVE/keys/server.cert_secret"
        done
        row "baseline" "raw PUB->SUB over CURVE 1->$subs, 64 B, lossless" "delivered msgs/s" "raw.curve.$subs"
        row "baseline" "raw zmq_proxy process over CURVE, PUB->proxy->SUB 1->$subs, 64 B, lossless" \
            "delivered msgs/s" "raw.proxy.curve.$subs"
        row "topics native, CURVE + permissions" "1->$subs, 64 B, lossless, server/io-threads default" \
            "delivered msgs/s" "topics.curve.$subs" "raw.curve.$subs" "raw.proxy.curve.$subs"
        if [ "$cores" -gt 1 ]; then
            row "topics native, CURVE + permissions" \
                "1->$subs, 64 B, lossless, server/io-threads $cores (one per core)" "delivered msgs/s" \
                "topics.curve.percore.$subs" "raw.curve.$subs" "raw.proxy.curve.$subs"
            row "baseline" "raw PUB->SUB over CURVE 1->$subs, 64 B, lossless, $cores I/O threads" \
                "delivered msgs/s" "raw.curve.io$cores.$subs"
            row "topics native, CURVE + permissions" \
                "1->$subs, 64 B, lossless, $cores I/O threads in zgate and in the generator" "delivered msgs/s" \
                "topics.curve.io$cores.$subs" "raw.curve.io$cores.$subs"
        fi
    done
}

# ws_secure off|on count: one run of the WebSocket fan-out, its rate and its deliveries per second of zgate's
# CPU time (the cost itself, which the other processes on the machine do not move)
ws_secure() {
    local args=("$GEN_WS" topics --url "$WS_URL" --endpoint @topics-publishers@ --clients 100 --size 64
                --count "$2" --server-pid @pid@ --ahead "$(ws_ahead 64)")
    if [ "$1" = on ]; then
        ZG_BENCH_TOKEN=$BENCH_TOKEN measure_zgate "ws.sec.on=rate ws.sec.cpu.on=per_server_cpu_s" \
            "$WS_LOSSLESS --security-jwt-secret bench-secret --security-permissions $WORK/secure/permissions.cfg" \
            -- "${args[@]}"
    else
        measure_zgate "ws.sec.off=rate ws.sec.cpu.off=per_server_cpu_s" "$WS_LOSSLESS" -- "${args[@]}"
    fi
}

# The cost of security over WebSocket: the same fan-out with security off and on (a JWT on each upgrade, the
# permissions file's role checked on each subscribe), alternating in one run
ws_security() {
    mkdir -p "$WORK/secure"
    printf 'grants\n    bench-role\n        topics\n            subscribe = bench.*\n' > "$WORK/secure/permissions.cfg"
    BENCH_TOKEN=$(bench_jwt)
    # At least 5 alternating rounds (security off first in odd rounds, on first in even ones), each long enough
    # (10 M deliveries) that the start of the run does not weigh: the row's ratio is the median of the rounds'
    local count rounds round on_before off_before cpu_on_before cpu_off_before
    count=$(scaled 100000 100)
    rounds=$(alternating_rounds)
    banner "topics over WS 1->100 64 B, security off and on, $count messages, $rounds alternating rounds"
    for round in $(seq "$rounds"); do
        on_before=$(values_of ws.sec.on)
        off_before=$(values_of ws.sec.off)
        cpu_on_before=$(values_of ws.sec.cpu.on)
        cpu_off_before=$(values_of ws.sec.cpu.off)
        if (( round % 2 )); then
            ws_secure off "$count"
            ws_secure on "$count"
        else
            ws_secure on "$count"
            ws_secure off "$count"
        fi
        pair_ratio ws.sec.on ws.sec.off "$on_before" "$off_before"
        pair_ratio ws.sec.cpu.on ws.sec.cpu.off "$cpu_on_before" "$cpu_off_before"
    done
    rows_rate_and_cpu "topics over WS, security off|1->100, 64 B, lossless|ws.sec@.off" \
        "topics over WS, token + permissions|1->100, 64 B, lossless|ws.sec@.on"
}
