# bench/run.sh's raw baselines, which every run measures (--only too): raw DEALER <-> ROUTER, the ceilings of
# queues and rooms; and the rows of every raw baseline (the PUB -> SUB and zmq_proxy ones are topics.sh's runs)
# shellcheck shell=bash

bench_raw() {
    local count
    count=$(scaled 20000 1000)
    banner "raw round trip, 1 outstanding, $count"
    for _ in $(seq "$RUNS"); do
        measure_raw "raw.rtt=rate raw.rtt.p50=p50_us raw.rtt.p99=p99_us" -- "$GEN" reqrep --window 1 --count "$count"
    done
    count=$(scaled 1000000 10000)
    banner "raw pipelined req/ack, window 1000, $count"
    for _ in $(seq "$RUNS"); do
        measure_raw "raw.pipeline=rate" -- "$GEN" reqrep --window 1000 --count "$count"
    done
}

rows_baseline() {
    row "baseline" "raw PUB->SUB 1->1, 64 B, lossless" "delivered msgs/s" raw.pubsub.1.64
    row "baseline" "raw PUB->SUB 1->8, 64 B, lossless" "delivered msgs/s" raw.pubsub.8.64
    row "baseline" "raw PUB->SUB 1->1, 1 KiB, lossless" "delivered msgs/s" raw.pubsub.1.1024
    row "baseline" "raw PUB->SUB 1->8, 1 KiB, lossless" "delivered msgs/s" raw.pubsub.8.1024
    row "baseline" "raw zmq_proxy process, PUB->proxy->SUB 1->1, 64 B, lossless" "delivered msgs/s" raw.proxy.1.64
    row "baseline" "raw zmq_proxy process, PUB->proxy->SUB 1->8, 64 B, lossless" "delivered msgs/s" raw.proxy.8.64
    row "baseline" "raw zmq_proxy process, PUB->proxy->SUB 1->1, 1 KiB, lossless" "delivered msgs/s" raw.proxy.1.1024
    row "baseline" "raw zmq_proxy process, PUB->proxy->SUB 1->8, 1 KiB, lossless" "delivered msgs/s" raw.proxy.8.1024
    row "baseline" "raw PUB->SUB 1->1, 64 B, 10 k msgs/s" "one-way p50 us" raw.pubsub.lat.p50
    row "baseline" "raw PUB->SUB 1->1, 64 B, 10 k msgs/s" "one-way p99 us" raw.pubsub.lat.p99
    row "baseline" "raw DEALER<->ROUTER, 1 outstanding" "round trips/s" raw.rtt
    row "baseline" "raw DEALER<->ROUTER, 1 outstanding" "round trip p50 us" raw.rtt.p50
    row "baseline" "raw DEALER<->ROUTER, 1 outstanding" "round trip p99 us" raw.rtt.p99
    row "baseline" "raw DEALER->ROUTER req/ack, window 1000" "acks/s" raw.pipeline
}
