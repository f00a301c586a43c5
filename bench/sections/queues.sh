# bench/run.sh's queues section (--only queues): producer pipelined (window 1000) with reply, W workers at
# prefetch P; then paced at 10% of the peak
# shellcheck shell=bash

bench_queues() {
    local workers prefetch count config peak rate
    if ! has_component queues; then
        for config in "1 worker, prefetch 1" "1 worker, prefetch 100" "4 workers, prefetch 1" "4 workers, prefetch 100"; do
            row_unavailable "queues" "$config, 64 B" "acked tasks/s" queues
        done
        row_unavailable "queues" "10% of peak, 64 B" "send->reply p50/p99 us" queues
        return 0
    fi
    for workers in 1 4; do
        for prefetch in 1 100; do
            count=$(scaled "$([ $prefetch = 1 ] && echo 50000 || echo 200000)" 2000)
            banner "queues $workers worker(s), prefetch $prefetch, window 1000, $count tasks"
            for _ in $(seq "$RUNS"); do
                measure_zgate "queues.$workers.$prefetch=rate" "" -- \
                    "$GEN" queues --endpoint @queues-producers@ --endpoint2 @queues-workers@ --clients "$workers" \
                    --prefetch "$prefetch" --window 1000 --count "$count" --server-pid @pid@
            done
            row "queues" "$workers worker(s), prefetch $prefetch, window 1000, 64 B" "acked tasks/s" \
                "queues.$workers.$prefetch" raw.pipeline
        done
    done
    peak=$(stat_of queues.4.100 median)
    if [ -n "$peak" ]; then
        rate=$(tenth_of "$peak")
        count=$(paced_count "$rate")
        banner "queues paced at 10% of the peak: $rate tasks/s, 4 workers, prefetch 100, $count tasks"
        for _ in $(seq "$RUNS"); do
            measure_zgate "queues.lat.p50=p50_us queues.lat.p99=p99_us" "" -- \
                "$GEN" queues --endpoint @queues-producers@ --endpoint2 @queues-workers@ --clients 4 \
                --prefetch 100 --window 1000 --count "$count" --rate "$rate" --server-pid @pid@
        done
    fi
    row "queues" "4 workers, prefetch 100, paced at 10% of peak (${rate:-?}/s)" "send->reply p50 us" queues.lat.p50 \
        raw.rtt.p50
    row "queues" "4 workers, prefetch 100, paced at 10% of peak (${rate:-?}/s)" "send->reply p99 us" queues.lat.p99 \
        raw.rtt.p99
}
