# Shared by bench/run.sh and bench/profile.sh (sourced): a zgate on free loopback ports, always stopped.
# Needs ZGATE (the binary), GEN (zg_bench), HELP (`zgate --help`) and WORK (a scratch directory); ZG_WRAPPER
# (an array, e.g. valgrind and its options) runs zgate under a tool.
# shellcheck shell=bash

ZG_WRAPPER=()
ZG_PID=
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
