# bench/run.sh's targets, after every section: the figures issues #16, #10 and #6 ask for (run_lib.sh's target
# compares each; the report lists them under the rows)
# shellcheck shell=bash

bench_targets() {
    # Issue #16 (lossless figures; the gateway's threads are measured where gateway/threads exists)
    target "#16 topics native 64 B 1->8 lossless, ratio to raw lossless" topics.8.64 ">=" 0.9 raw.pubsub.8.64
    target "#16 topics over WS 64 B 1->8 lossless, delivered msgs/s" ws.8.64 ">=" 3000000
    target "#16 topics over WS 64 B 1->1000 lossless, delivered msgs/s" ws.1000.64 ">=" 3000000
    target "#16 topics over WS 64 B 1->8 at 10 k msgs/s, one-way p50 us" ws.lat.8.p50 "<=" 40
    target "#16 topics over WS 64 B 1->8 at 10 k msgs/s, one-way p99 us" ws.lat.8.p99 "<=" 200
    target "#16 queues 4 workers prefetch 100, acked tasks/s" queues.4.100 ">=" 400000
    target "#16 queues p99 send->reply at 10% load, us" queues.lat.p99 "<" 1000
    target "#16 rooms 1000-member rounds/s" rooms.1000 ">=" 1000
    target "#16 rooms 1-member rounds, ratio to raw round trip" rooms.1 ">=" 0.8 raw.rtt
    # Issue #10 (the cost of security)
    target "#10 topics over WS 1->100 with security, ratio to security off" ws.sec.on ">=" 0.9 ws.sec.off
    target "#10 topics over WS 1->100 with security, per zgate CPU second, ratio to off" ws.sec.cpu.on ">=" 0.9 \
        ws.sec.cpu.off
    target "#10 topics native over CURVE 64 B 1->1, ratio to raw CURVE" topics.curve.1 ">=" 0.8 raw.curve.1
    target "#10 topics native over CURVE 64 B 1->8, ratio to raw CURVE" topics.curve.8 ">=" 0.8 raw.curve.8
    # Issue #6, still held
    target "#6 RSS per idle WS session at 10,000, bytes" ws.idle.10000 "<" 8192
    target "#6 queues durable (lmdb, the default) 4 workers prefetch 100 100 B, acked tasks/s" queues.durable ">=" 100000
    target "#6 queues durable (lmdb, the default) p99 send->OK at 10% load, us" queues.durable.lat.p99 "<" 5000
}
