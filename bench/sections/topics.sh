# bench/run.sh's topics section (--only topics): PUB -> N SUB, raw and through zgate. The headline figures are
# lossless: the publisher stays at most TOPICS_AHEAD messages ahead of the slowest subscriber (zg_bench --ahead:
# the receivers' counts read over shared memory, the same flow control for raw libzmq, the raw zmq_proxy and
# zgate, every queue on the way holding fewer than its high-water mark), and a run in which a subscriber misses
# a measured message fails. The burst rows (zgate only) let the publisher run into zgate's high-water marks and
# report what was dropped. The raw figures' rows are baseline.sh's; this section's come after them.
# shellcheck shell=bash

bench_topics() {
    section topics || return 0
    local size subs count run side
    for size in 64 1024; do
        for subs in 1 8; do
            if [ $size = 64 ]; then count=$([ $subs = 1 ] && echo 1000000 || echo 400000)
            else count=$([ $subs = 1 ] && echo 300000 || echo 100000); fi
            count=$(scaled "$count" 1000)
            banner "topics 1->$subs ${size} B, lossless, $count messages"
            # zgate and raw libzmq in alternating order, back to back, so that each pair sees the same load:
            # the row's ratio is the median of the pairs' ratios (pair_ratio). Both use one libzmq I/O thread
            # per process (zg_bench's context default, zgate's server/io-threads default)
            for run in $(seq "$RUNS"); do
                for side in $( ((run % 2)) && echo "raw zgate" || echo "zgate raw"); do
                    if [ "$side" = raw ]; then
                        measure_raw "raw.pubsub.$subs.$size=rate" -- \
                            "$GEN" topics --clients "$subs" --size "$size" --count "$count" --ahead "$TOPICS_AHEAD"
                    else
                        measure_zgate "topics.$subs.$size=rate" "" -- \
                            "$GEN" topics --endpoint @topics-publishers@ --endpoint2 @topics-subscribers@ \
                            --clients "$subs" --size "$size" --count "$count" --server-pid @pid@ \
                            --ahead "$TOPICS_AHEAD"
                    fi
                done
                pair_ratio "topics.$subs.$size" "raw.pubsub.$subs.$size"
                measure_zgate "raw.proxy.$subs.$size=rate" proxy -- \
                    "$GEN" topics --endpoint @topics-publishers@ --endpoint2 @topics-subscribers@ \
                    --clients "$subs" --size "$size" --count "$count" --server-pid @pid@ --ahead "$TOPICS_AHEAD"
                if [ $size = 64 ]; then
                    measure_zgate "topics.burst.$subs.$size=rate" "" -- \
                        "$GEN" topics --endpoint @topics-publishers@ --endpoint2 @topics-subscribers@ \
                        --clients "$subs" --size "$size" --count "$count" --server-pid @pid@
                fi
            done
        done
    done

    # topics one-way latency at a paced 10 k msgs/s
    count=$(scaled 30000 3000)
    banner "topics latency 1->1 64 B at 10 k msgs/s, $count messages"
    for _ in $(seq "$RUNS"); do
        measure_raw "raw.pubsub.lat.p50=p50_us raw.pubsub.lat.p99=p99_us" -- \
            "$GEN" topics --clients 1 --size 64 --count "$count" --rate 10000 --ahead "$TOPICS_AHEAD"
        measure_zgate "topics.lat.p50=p50_us topics.lat.p99=p99_us" "" -- \
            "$GEN" topics --endpoint @topics-publishers@ --endpoint2 @topics-subscribers@ \
            --clients 1 --size 64 --count "$count" --rate 10000 --server-pid @pid@ --ahead "$TOPICS_AHEAD"
    done
}

rows_topics() {
    row "topics native" "1->1, 64 B, lossless" "delivered msgs/s" topics.1.64 raw.pubsub.1.64 raw.proxy.1.64
    row "topics native" "1->8, 64 B, lossless" "delivered msgs/s" topics.8.64 raw.pubsub.8.64 raw.proxy.8.64
    row "topics native" "1->1, 1 KiB, lossless" "delivered msgs/s" topics.1.1024 raw.pubsub.1.1024 raw.proxy.1.1024
    row "topics native" "1->8, 1 KiB, lossless" "delivered msgs/s" topics.8.1024 raw.pubsub.8.1024 raw.proxy.8.1024
    row "topics native, burst" "1->1, 64 B, publisher blocked only at the HWM (drops counted)" "delivered msgs/s" \
        topics.burst.1.64
    row "topics native, burst" "1->8, 64 B, publisher blocked only at the HWM (drops counted)" "delivered msgs/s" \
        topics.burst.8.64
    row "topics native" "1->1, 64 B, 10 k msgs/s" "one-way p50 us" topics.lat.p50 raw.pubsub.lat.p50
    row "topics native" "1->1, 64 B, 10 k msgs/s" "one-way p99 us" topics.lat.p99 raw.pubsub.lat.p99
}
