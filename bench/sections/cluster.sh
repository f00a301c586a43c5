# bench/run.sh's cluster section (cluster/redis, --only cluster): one redis-server and three zgate nodes on
# free ports; topics, queues and room rounds across the nodes, each beside the same on one node in the same run.
# Needs redis-server (and redis-cli for the queues' Redis counts), or its rows say "not available".
# shellcheck shell=bash

# The nodes' pids (cluster_start, always stopped by cluster_stop) and redis-server's
CL_PIDS=()
CL_REDIS_PID=

cluster_stop() {
    local pid
    for pid in "${CL_PIDS[@]}"; do
        ZG_PID=$pid
        zgate_stop
    done
    CL_PIDS=()
    if [ -n "$CL_REDIS_PID" ]; then
        kill -KILL "$CL_REDIS_PID" 2> /dev/null || true
        wait "$CL_REDIS_PID" 2> /dev/null || true
        CL_REDIS_PID=
    fi
}

# cluster_start N: sets CL_PUB (node 1's publishers' endpoint), CL_SUBS (the other nodes' subscribers'
# endpoints, comma-separated), CL_ROOMS (node 1's rooms clients' endpoint) and CL_ROOMS_OTHERS (the other
# nodes'), CL_PROD and CL_WORK (for queues: node 1's producers, the other nodes' workers, node 1's when alone),
# CL_WEB (the other nodes' WebSocket URLs, comma-separated) and CL_REDIS_PORT, once every node answers /ready
# with 204
cluster_start() {
    local port node ready
    port=$("$GEN" port)
    CL_REDIS_PORT=$port
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning \
        > "$WORK/redis.log" 2>&1 &
    CL_REDIS_PID=$!
    for _ in $(seq 100); do
        (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
        sleep 0.05
    done
    CL_PUB=
    CL_SUBS=
    CL_ROOMS=
    CL_ROOMS_OTHERS=
    CL_WEB=
    for node in $(seq "$1"); do
        zgate_start --cluster-redis "127.0.0.1:$port" --topics-sndhwm 1000000 --topics-rcvhwm 1000000 \
            || { cluster_stop; return 1; }
        mv "$WORK/zgate.log" "$WORK/node$node.log"
        CL_PIDS+=("$ZG_PID")
        [ "$node" = 1 ] && CL_PUB=${ZG_FLAG[topics-publishers]} \
            || CL_SUBS=${CL_SUBS:+$CL_SUBS,}${ZG_FLAG[topics-subscribers]}
        [ "$node" = 1 ] && CL_PROD=${ZG_FLAG[queues-producers]} CL_WORK=${ZG_FLAG[queues-workers]}
        [ "$node" = 2 ] && CL_WORK=
        [ "$node" != 1 ] && CL_WORK=${CL_WORK:+$CL_WORK,}${ZG_FLAG[queues-workers]}
        [ "$node" = 1 ] && CL_ROOMS=${ZG_FLAG[rooms-clients]} \
            || CL_ROOMS_OTHERS=${CL_ROOMS_OTHERS:+$CL_ROOMS_OTHERS,}${ZG_FLAG[rooms-clients]}
        [ "$node" != 1 ] && CL_WEB=${CL_WEB:+$CL_WEB,}ws://127.0.0.1:${ZG_FLAG[gateway-http-port]}/ws
        for _ in $(seq 100); do
            ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${ZG_FLAG[gateway-http-port]}/ready")
            [ "$ready" = 204 ] && break
            sleep 0.05
        done
        ZG_PID=
        [ "$ready" = 204 ] || { echo "node $node not ready: $(tail -3 "$WORK/node$node.log")" >&2; cluster_stop; return 1; }
    done
}

# cluster_runs scenario configuration metric missing tool...: whether a cluster scenario runs (this zgate has
# cluster/redis and each tool is on PATH); if not, its row says "not available" and why (missing: which tools)
cluster_runs() {
    local scenario=$1 config=$2 metric=$3 missing=$4 tool
    shift 4
    if ! has_component cluster; then
        row_unavailable "$scenario" "$config" "$metric" cluster
        return 1
    fi
    for tool in "$@"; do
        command -v "$tool" > /dev/null && continue
        row_unavailable "$scenario" "$config" "$metric" cluster "$missing"
        return 1
    done
}

# topics from node 1 to 8 subscribers on nodes 2 and 3 (native SUBs, then WebSocket sessions), beside the same
# on a single node, paced (a node cannot slow a publisher on another node down, so an unpaced run measures
# drops) and checked lossless (--ahead; over WebSocket within three quarters of gateway/max-queue-bytes)
cluster_topics() {
    cluster_runs "topics across nodes" "node 1 -> 8 SUB on nodes 2 and 3" "delivered msgs/s, p50/p99" \
        "no redis-server on PATH" redis-server || return 0
    local rate=20000 count web_ahead
    count=$(paced_count "$rate")
    web_ahead=$(( 1048576 * 3 / 4 / (64 + 64) ))
    banner "topics across 3 nodes 1->8 64 B at $rate msgs/s (native, then web), beside one node, $count messages"
    for _ in $(seq "$RUNS"); do
        measure_zgate "topics.single.8=rate topics.single.8.p50=p50_us topics.single.8.p99=p99_us" "" -- \
            "$GEN" topics --endpoint @topics-publishers@ --endpoint2 @topics-subscribers@ \
            --clients 8 --size 64 --count "$count" --rate "$rate" --server-pid @pid@ --ahead "$TOPICS_AHEAD"
        measure_zgate "topics.single.ws8=rate topics.single.ws8.p50=p50_us topics.single.ws8.p99=p99_us" "" -- \
            "$GEN_WS" topics --url "ws://127.0.0.1:@gateway-http-port@/ws" --endpoint @topics-publishers@ \
            --clients 8 --size 64 --count "$count" --rate "$rate" --server-pid @pid@ --ahead "$web_ahead"
        if cluster_start 3; then
            measure_raw "topics.cluster.8=rate topics.cluster.8.p50=p50_us topics.cluster.8.p99=p99_us" -- \
                "$GEN" topics --endpoint "$CL_PUB" --endpoint2 "$CL_SUBS" --clients 8 --size 64 --count "$count" \
                --rate "$rate" --ahead "$TOPICS_AHEAD"
            measure_raw "topics.cluster.ws8=rate topics.cluster.ws8.p50=p50_us topics.cluster.ws8.p99=p99_us" -- \
                "$GEN_WS" topics --url "$CL_WEB" --endpoint "$CL_PUB" --clients 8 --size 64 --count "$count" \
                --rate "$rate" --ahead "$web_ahead"
            cluster_stop
        fi
    done
    row "topics, one node" "1->8, 64 B, $rate msgs/s" "delivered msgs/s" topics.single.8
    row "topics across nodes" "node 1 -> 8 SUB on nodes 2 and 3, 64 B, $rate msgs/s" "delivered msgs/s" \
        topics.cluster.8 topics.single.8
    row "topics, one node" "1->8, 64 B, $rate msgs/s" "one-way p50 us" topics.single.8.p50
    row "topics across nodes" "node 1 -> 8 SUB on nodes 2 and 3, 64 B, $rate msgs/s" "one-way p50 us" \
        topics.cluster.8.p50 topics.single.8.p50
    row "topics, one node" "1->8, 64 B, $rate msgs/s" "one-way p99 us" topics.single.8.p99
    row "topics across nodes" "node 1 -> 8 SUB on nodes 2 and 3, 64 B, $rate msgs/s" "one-way p99 us" \
        topics.cluster.8.p99 topics.single.8.p99
    row "topics over WS, one node" "1->8 sessions, 64 B, $rate msgs/s" "delivered msgs/s" topics.single.ws8
    row "topics across nodes over WS" "node 1 -> 8 web sessions on nodes 2 and 3, 64 B, $rate msgs/s" \
        "delivered msgs/s" topics.cluster.ws8 topics.single.ws8
    row "topics over WS, one node" "1->8 sessions, 64 B, $rate msgs/s" "one-way p50 us" topics.single.ws8.p50
    row "topics across nodes over WS" "node 1 -> 8 web sessions on nodes 2 and 3, 64 B, $rate msgs/s" \
        "one-way p50 us" topics.cluster.ws8.p50 topics.single.ws8.p50
}

# redis_counts: "scripts commands": EVALSHA calls the nodes made, and every command Redis ran (those the
# scripts ran included)
redis_counts() {
    redis-cli -p "$CL_REDIS_PORT" info all 2> /dev/null | tr -d '\r' | awk -F'[:=,]' '
        /^cmdstat_evalsha:/ { scripts = $3 } /^total_commands_processed:/ { total = $2 }
        END { print scripts + 0, total + 0 }'
}

# measure_cluster KEY NODES COUNT: one run of COUNT tasks on a fresh cluster, and per task its scripts
# (KEY.calls) and all the commands Redis ran (KEY.commands)
measure_cluster() {
    local before after b a
    cluster_start "$2" || return 0
    before=$(redis_counts)
    # Cluster mode serves SEND only (PROTOCOL 2.10): a version 1 producer here and beside it
    measure_raw "$1=rate" -- "$GEN" queues --endpoint "$CL_PROD" --endpoint2 "$CL_WORK" --clients 4 \
        --prefetch 100 --window 1000 --count "$3" --producer-protocol 1
    after=$(redis_counts)
    read -r -a b <<< "$before"
    read -r -a a <<< "$after"
    awk -v s="$(( a[0] - b[0] ))" -v n="$3" 'BEGIN { printf "%.2f\n", s / n }' >> "$WORK/v/$1.calls"
    awk -v s="$(( a[1] - b[1] ))" -v n="$3" 'BEGIN { printf "%.2f\n", s / n }' >> "$WORK/v/$1.commands"
    cluster_stop
}

# queues across nodes: producer on node 1, 4 workers (prefetch 100) on nodes 2 and 3, beside one node alone
# and a cluster of one node, in the same run; Redis commands per task from Redis' own count
cluster_queues() {
    local scenario="queues across nodes" config="producer on node 1, 4 workers on nodes 2 and 3"
    local metric="acked tasks/s, Redis commands per task" count
    cluster_runs "$scenario" "$config" "$metric" "no redis-server or redis-cli on PATH" redis-server redis-cli \
        || return 0
    if ! has_component queues; then
        row_unavailable "$scenario" "$config" "$metric" queues
        return 0
    fi
    count=$(scaled 50000 2000)
    banner "queues across 3 nodes, 4 workers, prefetch 100, window 1000, $count tasks, beside one node"
    for _ in $(seq "$RUNS"); do
        measure_zgate "queues.single.4=rate" "" -- \
            "$GEN" queues --endpoint @queues-producers@ --endpoint2 @queues-workers@ --clients 4 \
            --prefetch 100 --window 1000 --count "$count" --server-pid @pid@ --producer-protocol 1
        measure_cluster queues.cluster1.4 1 "$count"
        measure_cluster queues.cluster3.4 3 "$count"
    done
    row "queues, one node" "4 workers, prefetch 100, window 1000, 64 B" "acked tasks/s" queues.single.4
    row "queues, cluster of 1 node" "4 workers on node 1, prefetch 100, window 1000, 64 B" "acked tasks/s" \
        queues.cluster1.4 queues.single.4
    row "queues across nodes" "producer on node 1, 4 workers on nodes 2 and 3, prefetch 100, 64 B" \
        "acked tasks/s" queues.cluster3.4 queues.single.4
    row "queues across nodes, 1 -> 3 nodes" "3 nodes against a cluster of 1 (efficiency: ratio / 3)" \
        "acked tasks/s" queues.cluster3.4 queues.cluster1.4
    row "queues, cluster of 1 node" "4 workers on node 1" "scripts (EVALSHA) per task" queues.cluster1.4.calls
    row "queues across nodes" "producer on node 1, workers on nodes 2 and 3" "scripts (EVALSHA) per task" \
        queues.cluster3.4.calls
    row "queues across nodes" "producer on node 1, workers on nodes 2 and 3" \
        "Redis commands per task (scripts' own included)" queues.cluster3.4.commands
}

# room rounds with 3 members, one on each of 3 nodes (the producer on node 1), beside the same 3 members on one
# node: every round is a SEND script, one PUBLISH per node and an ack script per node (docs/INTERNALS.md, 5)
cluster_rooms() {
    cluster_runs "room rounds across 3 nodes" "3 members, one per node" "rounds/s, p50/p99" \
        "no redis-server on PATH" redis-server || return 0
    local count
    count=$(scaled 3000 100)
    banner "room rounds across 3 nodes, 3 members, beside one node, $count rounds"
    for _ in $(seq "$RUNS"); do
        measure_zgate "rooms.single.3=rate rooms.single.3.p50=p50_us rooms.single.3.p99=p99_us" "" -- \
            "$GEN" rooms --endpoint @rooms-clients@ --clients 3 --count "$count" --server-pid @pid@
        if cluster_start 3; then
            measure_raw "rooms.cluster.3=rate rooms.cluster.3.p50=p50_us rooms.cluster.3.p99=p99_us" -- \
                "$GEN" rooms --endpoint "$CL_ROOMS" --endpoint2 "$CL_ROOMS_OTHERS" --clients 3 --count "$count"
            cluster_stop
        fi
    done
    row "rooms, one node" "3 members, 64 B" "rounds/s" rooms.single.3
    row "room rounds across 3 nodes" "3 members, one per node, 64 B" "rounds/s" rooms.cluster.3 rooms.single.3
    row "rooms, one node" "3 members, 64 B" "round time p50 us" rooms.single.3.p50
    row "room rounds across 3 nodes" "3 members, one per node, 64 B" "round time p50 us" rooms.cluster.3.p50 \
        rooms.single.3.p50
    row "rooms, one node" "3 members, 64 B" "round time p99 us" rooms.single.3.p99
    row "room rounds across 3 nodes" "3 members, one per node, 64 B" "round time p99 us" rooms.cluster.3.p99 \
        rooms.single.3.p99
}

bench_cluster() {
    cluster_topics
    cluster_queues
    cluster_rooms
}
