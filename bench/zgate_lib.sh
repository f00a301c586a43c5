# Shared by bench/run.sh and bench/profile.sh (sourced): their build, a zgate on free loopback ports (always
# stopped) and the keys and tokens of the security scenarios.
# Needs ROOT (the source tree), WORK (a scratch directory) and ZGATE (the binary), GEN (zg_bench) and HELP
# (`zgate --help`), which zgate_build sets; ZG_WRAPPER (an array, e.g. valgrind and its options) runs zgate
# under a tool.
# shellcheck shell=bash

ZG_WRAPPER=()
ZG_PID=

# zgate_build BUILD TYPE: zgate, zgate-keygen and the load generators built into BUILD (CMake build type TYPE),
# the logs beside them; exits with the log's end on failure. Sets ZGATE, GEN and HELP
zgate_build() {
    mkdir -p "$1"
    cmake -S "$ROOT" -B "$1" -DCMAKE_BUILD_TYPE="$2" > "$1/bench-configure.log" 2>&1 \
        || { cat "$1/bench-configure.log"; exit 1; }
    cmake --build "$1" -j2 --target zgate zgate-keygen zg_bench zg_bench_ws > "$1/bench-build.log" 2>&1 \
        || { tail -40 "$1/bench-build.log"; exit 1; }
    ZGATE=$1/gateway/zgate
    GEN=$1/bench/zg_bench
    HELP=$("$ZGATE" --help)
}

# zgate on free ports: every default tcp://127.0.0.1:N endpoint and every *-port key gets a free port

has_component() { grep -q -- "^  --$1-" <<< "$HELP"; }

declare -A ZG_FLAG
# A free port may be taken by another process before zgate binds it: then new ports, up to 5 times
zgate_start() {
    local attempt
    for attempt in 1 2 3 4 5; do
        zgate_start_once "$@" 2> "$WORK/zgate-start.err" && return 0
        grep -q "in use\|cannot listen" "$WORK/zgate-start.err" || break
    done
    cat "$WORK/zgate-start.err" >&2
    return 1
}

zgate_start_once() {
    ZG_FLAG=()
    local args=() flag default
    while read -r flag default; do
        if [[ $default =~ ^tcp://127\.0\.0\.1:[0-9]+$ ]]; then
            default=tcp://127.0.0.1:$("$GEN" port)
        elif [[ $flag == *-port && $default =~ ^[1-9][0-9]*$ ]]; then
            default=$("$GEN" port)
        else
            continue
        fi
        ZG_FLAG[$flag]=$default
        args+=("--$flag" "$default")
    done < <(sed -n 's/^  --\([a-z0-9-]*\) .*\[\(.*\)\]$/\1 \2/p' <<< "$HELP")
    # Emptied before the start: the background job's own redirection may come after the first look below
    : > "$WORK/zgate.log"
    "${ZG_WRAPPER[@]}" "$ZGATE" "${args[@]}" "$@" > "$WORK/zgate.log" 2>&1 &
    ZG_PID=$!
    for _ in $(seq 300); do
        if grep -q running "$WORK/zgate.log"; then
            zgate_wait_listening && return 0
            break
        fi
        kill -0 "$ZG_PID" 2> /dev/null || break
        sleep 0.1
    done
    echo "zgate did not start:" >&2
    cat "$WORK/zgate.log" >&2
    zgate_stop
    return 1
}

# zgate logs "running" before its gateway listens: wait (bounded) until every *-port accepts connections
zgate_wait_listening() {
    local flag
    for flag in "${!ZG_FLAG[@]}"; do
        [[ $flag == *-port ]] || continue
        for _ in $(seq 100); do
            (exec 3<> "/dev/tcp/127.0.0.1/${ZG_FLAG[$flag]}") 2> /dev/null && continue 2
            sleep 0.05
        done
        return 1
    done
    return 0
}

zgate_stop() {
    [ -n "$ZG_PID" ] || return 0
    kill -TERM "$ZG_PID" 2> /dev/null || true
    for _ in $(seq 300); do
        kill -0 "$ZG_PID" 2> /dev/null || break
        sleep 0.1
    done
    kill -KILL "$ZG_PID" 2> /dev/null || true
    wait "$ZG_PID" 2> /dev/null || true
    ZG_PID=
}

# The raw broker baseline: zg_bench proxy (zmq_proxy XSUB -> XPUB) in its own process, on the endpoints a
# zgate would have, so that generator arguments are the same; arguments go to zg_bench proxy
proxy_start() {
    ZG_FLAG=([topics-publishers]=tcp://127.0.0.1:$("$GEN" port) [topics-subscribers]=tcp://127.0.0.1:$("$GEN" port))
    : > "$WORK/zgate.log"
    "$GEN" proxy --endpoint "${ZG_FLAG[topics-publishers]}" --endpoint2 "${ZG_FLAG[topics-subscribers]}" \
        --timeout 300000 "$@" > "$WORK/zgate.log" 2>&1 &
    ZG_PID=$!
    for _ in $(seq 100); do
        grep -q running "$WORK/zgate.log" && return 0
        sleep 0.1
    done
    echo "proxy did not start: $(cat "$WORK/zgate.log")" >&2
    zgate_stop
    return 1
}

# Replace @flag@ by zgate's endpoint (or port) for that flag, and @pid@ by its process id
expand() {
    local arg flag
    for arg in "$@"; do
        while [[ $arg =~ @([a-z0-9-]+)@ ]]; do
            flag=${BASH_REMATCH[1]}
            if [ "$flag" = pid ]; then
                arg=${arg//@pid@/$ZG_PID}
            else
                arg=${arg//@$flag@/${ZG_FLAG[$flag]}}
            fi
        done
        printf '%s\n' "$arg"
    done
}

# curve_setup DIR: what the CURVE scenarios run with: a server and a client ("bench") key pair from
# zgate-keygen (beside ZGATE) in DIR/keys, the client's public certificate in DIR/clients (for
# security/client-certs) and DIR/permissions.cfg, which lets bench publish and subscribe to bench.*
curve_setup() {
    local keygen=${ZGATE%/*}/zgate-keygen
    mkdir -p "$1/keys" "$1/clients"
    "$keygen" server "$1/keys" > /dev/null
    "$keygen" bench "$1/keys" > /dev/null
    cp "$1/keys/bench.cert" "$1/clients/"
    printf 'users\n    bench\n        roles = bench-role\ngrants\n    bench-role\n        topics\n%s\n%s\n' \
        '            publish = bench.*' '            subscribe = bench.*' > "$1/permissions.cfg"
}

# The WebSocket security scenarios' JWT (HS256, secret "bench-secret"): user bench, role bench-role
bench_jwt() {
    python3 -c 'import base64,hashlib,hmac,json
b=lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
h=b(b"{\"alg\":\"HS256\",\"typ\":\"JWT\"}")+"."+b(json.dumps({"sub":"bench","roles":["bench-role"]}).encode())
print(h+"."+b(hmac.new(b"bench-secret",h.encode(),hashlib.sha256).digest()))'
}
