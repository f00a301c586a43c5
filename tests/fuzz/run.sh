#!/bin/sh
#   Run a fuzz target under libFuzzer (clang, ASan, UBSan) for SECONDS, on its committed corpus and
#   regressions with its dictionary, and print a summary: execs, execs/s, edges covered (cov) and any crash.
#
#       tests/fuzz/run.sh TARGET SECONDS      one target (ws, mpreader, codec_json, ...)
#       tests/fuzz/run.sh TARGET SECONDS RUNS the same, stopping after RUNS inputs if that comes first
#       tests/fuzz/run.sh all SECONDS         every target, one after the other
#       tests/fuzz/run.sh minimize TARGET     the committed corpus becomes the fewest inputs, of it and of
#                                             what runs found, that cover what they all cover (-merge=1),
#                                             and its named seeds
#       tests/fuzz/run.sh campaign HH:MM TARGET...
#                                             issue 17's depth: each target in turn for 10 million inputs or
#                                             30 minutes, none past HH:MM (UTC), then its corpus minimized;
#                                             its log is kept as tests/fuzz/logs/TARGET.log
#
#   The libFuzzer build lives in build-fuzz/ (made if needed); inputs a run finds go to
#   build-fuzz/corpus/TARGET/ (kept between runs, not committed), crashes to build-fuzz/crashes/TARGET/.
#   A crash worth keeping goes to tests/fuzz/regressions/TARGET/, where the CTest fuzz.TARGET replays it.
#   tests/fuzz/TARGET.flags, if there, holds more libFuzzer flags for that target: the targets that run an
#   actor per input say -detect_leaks=0, as libzmq frees a closed socket later, in its reaper thread, so every
#   input looks like a leak and libFuzzer would stop the world to scan for one after each (20 execs/s); leaks
#   are still looked for once, at exit.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
fuzz=$root/tests/fuzz
build=${ZGATE_FUZZ_BUILD:-$root/build-fuzz}

usage () {
    echo "usage: $0 TARGET|all SECONDS [RUNS]  or  $0 minimize TARGET  or  $0 campaign HH:MM TARGET..." >&2
    echo "targets: $(targets | tr '\n' ' ')" >&2
    exit 2
}

targets () {
    for source in "$fuzz"/zg_fuzz_*.c; do
        name=$(basename "$source" .c)
        name=${name#zg_fuzz_}
        [ "$name" = main ] || echo "$name"
    done
}

build_target () {
    if [ ! -f "$build/CMakeCache.txt" ]; then
        cmake -S "$root" -B "$build" -DZGATE_LIBFUZZER=ON -DCMAKE_C_COMPILER=clang \
              -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    nice cmake --build "$build" -j2 --target "zg_fuzz_$1" >/dev/null
}

#   libFuzzer's last status line has "#EXECS ... cov: EDGES ... exec/s: RATE"
run_target () {
    name=$1
    seconds=$2
    runs=${3:--1}
    [ -f "$fuzz/zg_fuzz_$name.c" ] || usage
    build_target "$name"
    mkdir -p "$build/corpus/$name" "$build/crashes/$name"
    log=$build/crashes/$name/last.log
    set +e
    flags=$( [ -f "$fuzz/$name.flags" ] && cat "$fuzz/$name.flags" || true)
    nice "$build/tests/zg_fuzz_$name" -max_total_time="$seconds" -runs="$runs" -dict="$fuzz/$name.dict" $flags \
         -artifact_prefix="$build/crashes/$name/" -print_final_stats=1 \
         "$build/corpus/$name" "$fuzz/corpus/$name" $( [ -d "$fuzz/regressions/$name" ] && echo "$fuzz/regressions/$name") \
         >"$log" 2>&1
    status=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | head -1)
    elapsed=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
    printf '%-14s execs %-10s s %-6s execs/s %-7s cov %-6s %s\n' "$name" "${execs:-?}" "${elapsed:-?}" \
           "${rate:-?}" "${cov:-?}" \
           "$( [ $status -eq 0 ] && echo "no crash" || echo "FAILED (exit $status) ${crash:-see $log}")"
    return $status
}

#   Each target of a campaign: 10 million inputs or 30 minutes, whichever comes first, within the time left
campaign () {
    stop=$(date -u -d "$1" +%s)
    shift
    mkdir -p "$fuzz/logs"
    failed=0
    for name in "$@"; do
        left=$((stop - $(date +%s)))
        if [ $left -lt 30 ]; then
            echo "$name: not run, the campaign's time is over"
            continue
        fi
        run_target "$name" $((left < 1800 ? left : 1800)) 10000000 || failed=1
        cp "$build/crashes/$name/last.log" "$fuzz/logs/$name.log"
        minimize "$name"
    done
    return $failed
}

minimize () {
    name=$1
    [ -d "$fuzz/corpus/$name" ] || usage
    build_target "$name"
    shrunk=$(mktemp -d)
    nice "$build/tests/zg_fuzz_$name" -merge=1 "$shrunk" "$fuzz/corpus/$name" \
         $( [ -d "$build/corpus/$name" ] && echo "$build/corpus/$name") >/dev/null 2>&1
    echo "$name: $(ls "$fuzz/corpus/$name" | wc -l) inputs, $(ls "$shrunk" | wc -l) add coverage"
    #   A named seed (not libFuzzer's SHA-1 name) stays, under its name, whatever it adds
    for seed in "$fuzz/corpus/$name"/*; do
        base=$(basename "$seed")
        if [ ${#base} -ne 40 ] || [ -n "$(printf '%s' "$base" | tr -d 0-9a-f)" ]; then
            rm -f "$shrunk/$(sha1sum <"$seed" | cut -c1-40)"
            cp "$seed" "$shrunk/"
        fi
    done
    rm -f "$fuzz/corpus/$name"/*
    cp "$shrunk"/* "$fuzz/corpus/$name/"
    rm -rf "$shrunk"
}

[ $# -ge 2 ] || usage
case $1 in
    campaign)
        shift
        campaign "$@"
        exit $?
        ;;
    all)
        [ $# -le 3 ] || usage
        failed=0
        for name in $(targets); do
            run_target "$name" "$2" ${3:-} || failed=1
        done
        exit $failed
        ;;
    minimize)
        [ $# -eq 2 ] || usage
        minimize "$2"
        ;;
    *)
        [ $# -le 3 ] || usage
        run_target "$1" "$2" ${3:-}
        ;;
esac
