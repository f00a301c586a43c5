# bench/run.sh's HTTP publish, the last of the gateway section (ws.sh runs it): POST /api/publish with 50
# keep-alive connections (wrk); a pull subscriber makes the subject known
# shellcheck shell=bash

# CPU seconds (user + system) of a process so far, empty if it is gone
process_cpu() {
    awk -v tick="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / tick }' "/proc/$1/stat" \
        2> /dev/null || true
}

# wrk's latency figure ("1.23ms", "850.00us", "1.01s") in microseconds
wrk_us() {
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
                           else if (v ~ /m$/) print n * 60e6; else print n * 1e6 }'
}

# One HTTP run: a fresh zgate, one pull subscriber of bench.http, wrk posting to /api/publish
measure_http() {
    local duration=$1
    # shellcheck disable=SC2046
    zgate_start $(gateway_flags) || return 0
    local base="http://127.0.0.1:${ZG_FLAG[gateway-http-port]}"
    curl -s -m 5 -X POST -H 'Content-Type: application/json' -d '{"subject":"bench.http"}' \
        "$base/api/subscribe" > /dev/null || true
    cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"subject":"bench.http","data":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
LUA
    local cpu_before cpu_after
    cpu_before=$(process_cpu "$ZG_PID")
    if timeout $((duration + 30)) /usr/bin/time -f "%U %S %M" -o "$WORK/wrk.time" \
        wrk -t1 -c50 -d"${duration}s" --latency -s "$WORK/post.lua" "$base/api/publish" > "$WORK/wrk.out" 2>&1 \
        && cpu_after=$(process_cpu "$ZG_PID") && [ -n "$cpu_after" ]; then
        local total seconds errors p50 p99 result
        total=$(awk '/requests in/ { print $1 }' "$WORK/wrk.out")
        seconds=$(awk '/requests in/ { sub(/s,$/, "", $4); print $4 }' "$WORK/wrk.out")
        errors=$(awk '/Non-2xx/ { print $NF }' "$WORK/wrk.out")
        p50=$(wrk_us "$(awk '$1 == "50%" { print $2 }' "$WORK/wrk.out")")
        p99=$(wrk_us "$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.out")")
        result=$(awk -v t="$total" -v s="$seconds" -v e="${errors:-0}" -v p50="$p50" -v p99="$p99" \
            -v server="$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { print b - a }')" \
            -v rss="$(awk '/VmRSS/ { print $2 }' "/proc/$ZG_PID/status")" \
            '{ printf "RESULT rate=%.0f operations=%d seconds=%s client_cpu=%.2f server_cpu=%.2f p50_us=%s p99_us=%s server_rss_kb=%s delivered=%d expected=%d",
                      (t - e) / s, t - e, s, $1 + $2, server, p50, p99, rss, t - e, t }' "$WORK/wrk.time")
        echo "   $result"
        record "$result" http.publish=rate http.publish.p50=p50_us http.publish.p99=p99_us
    elif ! kill -0 "$ZG_PID" 2> /dev/null; then
        echo "   FAILED: zgate died under wrk: $(tail -1 "$WORK/zgate.log")"
    else
        echo "   FAILED: wrk ($(tail -1 "$WORK/wrk.out"))"
    fi
    zgate_stop
}

bench_http() {
    local duration
    duration=$([ "$QUICK" = 1 ] && echo 2 || echo 5)
    banner "HTTP POST /api/publish, 50 connections, ${duration} s"
    for _ in $(seq "$RUNS"); do
        measure_http "$duration"
    done
    row "HTTP" "POST /api/publish, 64 B, 50 keep-alive connections (wrk)" "requests/s" http.publish
    row "HTTP" "POST /api/publish, 64 B, 50 keep-alive connections (wrk)" "latency p50 us" http.publish.p50
    row "HTTP" "POST /api/publish, 64 B, 50 keep-alive connections (wrk)" "latency p99 us" http.publish.p99
}
