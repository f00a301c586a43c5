# bench/run.sh's history over WebSocket, in the gateway section (ws.sh runs it). History on for the topic
# against off, interleaved in each run (issue #15 asks for a ratio >= 0.9): every message is then numbered and
# kept (zg_history), and its web frame carries seq and epoch; lossless, as a rate of delivered messages would
# say more about what was dropped than about what history costs. The durable row adds topics/data-dir (one LMDB
# commit per loop pass of the topics actor). At least 5 alternating rounds: each row's ratio is the median of
# the rounds' ratios (pair_ratio). Beside the rate, which the flow control and the other processes on the
# machine move, the cost itself: deliveries per second of zgate's CPU time (its threads' schedstat
# nanoseconds), the ratio the 0.9 is about.
# shellcheck shell=bash

ws_history() {
    local pairs subs count variant key base
    pairs=$(alternating_rounds)
    for subs in 8 100; do
        case $subs in 8) count=1000000 ;; *) count=100000 ;; esac
        count=$(scaled "$count" 100)
        banner "topics over WS 1->$subs 64 B, history off, on and on disk, lossless, $count messages, $pairs rounds"
        for _ in $(seq "$pairs"); do
            for variant in nohistory history history.durable; do
                rm -rf "$WORK/history-data"
                # (an empty setting would be applied as such: each is set only for the variants that have it)
                [ $variant = nohistory ] || export ZGATE_TOPICS_HISTORY="bench.* 1000"
                [ $variant != history.durable ] || export ZGATE_TOPICS_DATA_DIR=$WORK/history-data
                measure_zgate "ws.$variant.$subs=rate ws.$variant.cpu.$subs=per_server_cpu_s" "$WS_LOSSLESS" -- \
                    "$GEN_WS" topics --url "$WS_URL" --endpoint @topics-publishers@ --clients "$subs" --size 64 \
                    --count "$count" --server-pid @pid@ --ahead "$(ws_ahead 64)"
                unset ZGATE_TOPICS_HISTORY ZGATE_TOPICS_DATA_DIR
            done
            for key in ws.history ws.history.durable ws.history.cpu ws.history.durable.cpu; do
                base=${key/.history.durable/.nohistory}
                pair_ratio "$key.$subs" "${base/.history/.nohistory}.$subs"
            done
        done
        rows_rate_and_cpu "topics over WS|1->$subs, 64 B, lossless, history off|ws.nohistory@.$subs" \
            "topics over WS|1->$subs, 64 B, lossless, history on (bench.* 1000)|ws.history@.$subs" \
            "topics over WS|1->$subs, 64 B, lossless, history on disk (topics/data-dir)|ws.history.durable@.$subs"
    done
}
