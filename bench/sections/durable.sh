# bench/run.sh's durable section (--only durable): queues with queues/data-dir, for each store
# (queues/data-store: lmdb, the default, then log): 4 workers, prefetch 100, 100 B tasks, every task synced
# before its OK; throughput with replies, then send->OK paced at 10% of that peak. zgate logs its store
# counters every 100 ms: commits (one per loop pass that wrote), fdatasyncs (the log syncs once per commit, LMDB
# twice: pages, then meta page) and tasks; from them fsyncs per second and tasks per fsync (the recent list is
# off so that the stats line, which the logger cuts, ends with the store counters). Keys: queues.durable* for
# LMDB, the default (the targets), queues.durable_log* for the log.
# shellcheck shell=bash

durable_run() {   # store key rate-args...: one run on a fresh data-dir, recording key, key.syncs_s, key.per_sync
    local store=$1 key=$2 result syncs tasks seconds
    shift 2
    rm -rf "$WORK/data"
    zgate_start --queues-data-dir "$WORK/data" --queues-data-store "$store" --server-stats-interval 100 \
        --queues-recent-size 0 || return 0
    local args=()
    mapfile -t args < <(expand "$GEN" queues --endpoint @queues-producers@ --endpoint2 @queues-workers@ \
        --clients 4 --prefetch 100 --window 1000 --size 100 --server-pid @pid@ "$@")
    if result=$(timeout 180 "${args[@]}" 2> "$WORK/gen.err" | grep '^RESULT'); then
        echo "   $result"
        record "$result" "$key=rate" "$key.p50=p50_us" "$key.p99=p99_us"
        sleep 0.3    # one more stats line, after the last commit
        syncs=$(grep -o '"store":{"commits":[0-9]*,"syncs":[0-9]*' "$WORK/zgate.log" | tail -1 | grep -o '[0-9]*$')
        tasks=$(grep -o '"syncs":[0-9]*,"tasks":[0-9]*' "$WORK/zgate.log" | tail -1 | grep -o '[0-9]*$')
        seconds=$(field_of "$result" seconds)
        if [ -n "$syncs" ] && [ "$syncs" -gt 0 ] && [ -n "$tasks" ]; then
            awk -v c="$syncs" -v s="$seconds" 'BEGIN { printf "%.0f\n", c / s }' >> "$WORK/v/$key.syncs_s"
            awk -v c="$syncs" -v t="$tasks" 'BEGIN { printf "%.1f\n", t / c }' >> "$WORK/v/$key.per_sync"
        fi
    else
        echo "   FAILED: durable queues, $store store ($(tail -1 "$WORK/gen.err"))"
    fi
    zgate_stop
    rm -rf "$WORK/data"
}

durable_store() {   # store key: the throughput and the paced latency runs, then their rows
    local store=$1 key=$2 count peak rate
    count=$(scaled 200000 2000)
    banner "queues durable ($store store), 4 workers, prefetch 100, window 1000, 100 B, $count tasks"
    for _ in $(seq "$RUNS"); do
        durable_run "$store" "$key" --count "$count"
    done
    row "queues durable ($store)" "4 workers, prefetch 100, window 1000, 100 B, synced" "acked tasks/s" "$key" \
        queues.4.100
    row "queues durable ($store)" "same" "fsyncs/s" "$key.syncs_s"
    row "queues durable ($store)" "same" "tasks per fsync" "$key.per_sync"
    peak=$(stat_of "$key" median)
    if [ -n "$peak" ]; then
        rate=$(tenth_of "$peak")
        count=$(paced_count "$rate")
        banner "queues durable ($store store) paced at 10% of its peak: $rate tasks/s, send->OK, $count tasks"
        for _ in $(seq "$RUNS"); do
            durable_run "$store" "$key.lat" --count "$count" --rate "$rate" --ok 1
        done
    fi
    local paced="paced at 10% of its peak (${rate:-?}/s)"
    row "queues durable ($store)" "$paced" "send->OK p50 us" "$key.lat.p50"
    row "queues durable ($store)" "$paced" "send->OK p99 us" "$key.lat.p99"
    row "queues durable ($store)" "$paced" "fsyncs/s" "$key.lat.syncs_s"
    row "queues durable ($store)" "$paced" "tasks per fsync" "$key.lat.per_sync"
}

bench_durable() {
    if ! section durable || ! grep -q -- "^  --queues-data-store " <<< "$HELP"; then
        row_unavailable "queues durable" "4 workers, prefetch 100, 100 B, synced" "acked tasks/s" queues-data-store
        return 0
    fi
    durable_store lmdb queues.durable
    durable_store log queues.durable_log
}
