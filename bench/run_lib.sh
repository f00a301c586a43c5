# What every section of bench/run.sh uses (sourced by it, after zgate_lib.sh): the counts of a run, the
# measurements (each value appended to $WORK/v/<key>), the rows (median, min, max, baseline, ratio, CPU split,
# RSS), the targets and the report (bench/results/latest.md and .csv, or partial.* with --only).
# Needs QUICK, RUNS and ONLY (the options), ROOT, RESULTS, HELP and WORK.
# shellcheck shell=bash

# The publisher of a lossless topics run stays at most this many messages ahead of its slowest subscriber
# (zg_bench --ahead): the native, CURVE and cluster topics scenarios
TOPICS_AHEAD=4000

# Count for a full run; --quick divides by 10 (at least min)
scaled() {
    if [ "$QUICK" = 1 ]; then
        local value=$(($1 / 10))
        echo $((value < ${2:-1}? ${2:-1}: value))
    else
        echo "$1"
    fi
}

# Messages or tasks for a run paced at rate: 3 seconds' worth, 1 with --quick
paced_count() { echo $(( $1 * $([ "$QUICK" = 1 ] && echo 1 || echo 3) )); }

# A tenth of a peak rate (at least 100/s): the load of the "paced at 10% of the peak" latency runs
tenth_of() { awk -v p="$1" 'BEGIN { r = int(p / 10); print (r < 100? 100: r) }'; }

# Whether --only lets this section run
section() { [ -z "$ONLY" ] || [[ ,$ONLY, == *,$1,* ]]; }
# A component of a section --only leaves out counts as absent (zgate_lib.sh's test, and the section's)
has_component() { section "$1" && grep -q -- "^  --$1-" <<< "$HELP"; }

banner() { echo "== $*"; }

# The scratch directories of the measurements, the rows and targets files, and the start's load and time
results_init() {
    mkdir -p "$WORK/v" "$WORK/cpu" "$WORK/rss" "$WORK/loss" "$WORK/pair"
    ROWS=$WORK/rows
    MISSING=0
    : > "$ROWS"
    TARGETS=$WORK/targets
    : > "$TARGETS"
    START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
    START_TIME=$(date -u +%s)
}

# ---------------------------------------------------------------------------------------------------------
# Measurements: each value is appended to $WORK/v/<key>, CPU seconds to $WORK/cpu/<key>

# How many values key has so far
values_of() { if [ -s "$WORK/v/$1" ]; then wc -l < "$WORK/v/$1"; else echo 0; fi; }

# pair_ratio key base [key_before base_before]: the ratio of the last values of key and base, measured one after
# the other, appended to key's pairs (row then reports their median as its ratio). Without counts: none once a
# run of either gave no number, as their last values would then come from different rounds; with the counts
# of values each had before the round: when both got one in it
pair_ratio() {
    if [ $# -gt 2 ]; then
        [ "$(values_of "$1")" -gt "$3" ] && [ "$(values_of "$2")" -gt "$4" ] || return 0
    else
        [ -s "$WORK/v/$1" ] && [ -s "$WORK/v/$2" ] && [ "$(wc -l < "$WORK/v/$1")" = "$(wc -l < "$WORK/v/$2")" ] \
            || return 0
    fi
    awk -v a="$(tail -1 "$WORK/v/$1")" -v b="$(tail -1 "$WORK/v/$2")" 'BEGIN { if (b > 0) print a / b }' \
        >> "$WORK/pair/$1"
}

# Rounds of a measurement made in alternating pairs: at least 5 (one with --quick)
alternating_rounds() { [ "$QUICK" = 1 ] && echo 1 || echo $((RUNS < 5? 5: RUNS)); }

# The median of key's pair ratios (pair_ratio), empty without any
pair_median() {
    [ -s "$WORK/pair/$1" ] || return 0
    sort -g "$WORK/pair/$1" \
        | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2)? v[(NR + 1) / 2]: (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The value of one key=value field of a RESULT line, empty if absent
field_of() {
    if [[ " $1 " =~ \ $2=([0-9.]+)\  ]]; then
        echo "${BASH_REMATCH[1]}"
    fi
}

# Record the fields named "key=field ..." of a RESULT line; CPU, RSS and losses go with the first key
record() {
    local result=$1 spec value
    shift
    for spec in "$@"; do
        value=$(field_of "$result" "${spec#*=}")
        [ -n "$value" ] && echo "$value" >> "$WORK/v/${spec%%=*}"
    done
    local key=${1%%=*} server client rss delivered expected
    server=$(field_of "$result" server_cpu)
    client=$(field_of "$result" client_cpu)
    rss=$(field_of "$result" server_rss_kb)
    delivered=$(field_of "$result" delivered)
    expected=$(field_of "$result" expected)
    [ -n "$client" ] && echo "${server:-0} $client" >> "$WORK/cpu/$key"
    [ -n "$rss" ] && echo "$rss" >> "$WORK/rss/$key"
    [ -n "$expected" ] && echo "$delivered $expected" >> "$WORK/loss/$key"
    return 0
}

# measure_raw "key=field ..." -- generator args: one run of a raw baseline, no zgate
measure_raw() {
    local specs=$1 result
    shift 2
    if result=$(timeout 180 "$@" 2> "$WORK/gen.err" | grep '^RESULT'); then
        echo "   $result"
        # shellcheck disable=SC2086
        record "$result" $specs
    else
        echo "   FAILED: $* ($(tail -1 "$WORK/gen.err"))"
    fi
}

# measure_zgate "key=field ..." "zgate flags" -- generator args with @flag@ and @pid@: one run through a
# fresh zgate ("proxy" and zg_bench proxy options as the flags: through the raw zmq_proxy process instead)
measure_zgate() {
    local specs=$1 flags=$2
    shift 3
    if [[ $flags == proxy* ]]; then
        # shellcheck disable=SC2086
        proxy_start ${flags#proxy} || return 0
    else
        # shellcheck disable=SC2086
        zgate_start $flags || return 0
    fi
    local args=()
    mapfile -t args < <(expand "$@")
    measure_raw "$specs" -- "${args[@]}"
    zgate_stop
}

# ---------------------------------------------------------------------------------------------------------
# Rows: median of the runs, min, max, baseline median, ratio, CPU split, zgate RSS

stat_of() {   # key what(median|min|max|count)
    [ -s "$WORK/v/$1" ] || { echo ""; return; }
    sort -g "$WORK/v/$1" | awk -v what="$2" '{ v[NR] = $1 }
        END { if (what == "min") print v[1]; else if (what == "max") print v[NR];
              else if (what == "count") print NR;
              else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

cpu_of() {
    [ -s "$WORK/cpu/$1" ] || { echo "-"; return; }
    local server=zgate
    [[ $1 == raw.proxy.* ]] && server=proxy
    awk -v server="$server" '{ s += $1; c += $2; n++ }
        END { if (s + c == 0) { print "-"; exit }
              if (s == 0) printf "gen %.2f s", c / n;
              else printf "%s %.0f%% / gen %.0f%% (%.2f s / %.2f s)", server, 100 * s / (s + c), 100 * c / (s + c), s / n, c / n }' \
        "$WORK/cpu/$1"
}

rss_of() {
    [ -s "$WORK/rss/$1" ] || { echo "-"; return; }
    sort -g "$WORK/rss/$1" | tail -1 | awk '{ printf "%.1f MiB", $1 / 1024 }'
}

fmt() {   # number [metric] -> rates in k and M; latencies (us) and byte counts as they are
    if [ -z "$1" ] || [ "$1" = - ]; then
        echo "-"
        return
    fi
    if [[ ${2:-} =~ (us|bytes)( |$) ]]; then
        awk -v n="$1" 'BEGIN { printf (n == int(n)? "%d": "%.1f"), n }'
        return
    fi
    awk -v n="$1" 'BEGIN { if (n >= 1e6) printf "%.2f M", n / 1e6; else if (n >= 1e4) printf "%.1f k", n / 1e3;
                           else if (n == int(n)) printf "%d", n; else printf "%.1f", n }'
}

# row scenario configuration metric zgate_key [baseline_key [broker_baseline_key]]
row() {
    local scenario=$1 config=$2 metric=$3 key=$4 base=${5:-} broker=${6:-}
    local median min max count base_median ratio="-" note="" pairs_note=""
    median=$(stat_of "$key" median)
    min=$(stat_of "$key" min)
    max=$(stat_of "$key" max)
    count=$(stat_of "$key" count)
    base_median=$( [ -n "$base" ] && stat_of "$base" median || echo "")
    [ -n "$ONLY" ] && [ -z "$median" ] && return 0
    # A baseline of a section --only left out: the figure stands alone
    [ -n "$ONLY" ] && [ -z "$base_median" ] && base=
    if [ -n "$median" ] && [ -n "$base_median" ]; then
        ratio=$(awk -v a="$median" -v b="$base_median" 'BEGIN { printf "%.2f", (b > 0? a / b: 0) }')
    fi
    # Measured in alternating pairs (pair_ratio): the median of the pairs' ratios, which a load that changes
    # between runs moves less than a ratio of medians
    if [ -s "$WORK/pair/$key" ]; then
        ratio=$(pair_median "$key")
        pairs_note="ratio: median of $(wc -l < "$WORK/pair/$key") alternating pairs"
    fi
    if [ -s "$WORK/loss/$key" ]; then
        local lost="not delivered (dropped at a queue limit)"
        [[ $key == http.* ]] && lost="non-2xx responses"
        note=$(awk -v lost="$lost" '{ d += $1; e += $2 } END { if (d < e) printf "%.1f%% %s", 100 * (e - d) / e, lost }' \
               "$WORK/loss/$key")
    fi
    [ -n "$pairs_note" ] && note="${note:+$note; }$pairs_note"
    local broker_median
    broker_median=$( [ -n "$broker" ] && stat_of "$broker" median || echo "")
    if [ -n "$median" ] && [ -n "$broker_median" ]; then
        note="${note:+$note; }$(awk -v a="$median" -v b="$broker_median" \
            'BEGIN { printf "%.2f of the raw zmq_proxy hop", (b > 0? a / b: 0) }')"
    fi
    if [ -z "$median" ] || { [ -n "$base" ] && [ -z "$base_median" ]; }; then
        note="NO NUMBER"
        MISSING=$((MISSING + 1))
    fi
    # Tab is IFS white space, so empty fields would merge when read back: "-" stands for nothing
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$config" "$metric" "${median:--}" \
        "${min:--}" "${max:--}" "${count:-0}" "${base_median:--}" "$ratio" "$(cpu_of "$key")" "$(rss_of "$key")" \
        "${note:--}" >> "$ROWS"
}

# A scenario whose component is not in this zgate (or whose tool is not installed): reported, never estimated
row_unavailable() {
    [ -z "$ONLY" ] || return 0
    printf '%s\t%s\t%s\t-\t-\t-\t0\t-\t-\t-\t-\tnot available: %s\n' \
        "$1" "$2" "$3" "${5:-no --$4-* flags in zgate --help}" >> "$ROWS"
}

# rows_rate_and_cpu "scenario|configuration|key" ...: the rows of variants measured both as delivered msgs/s and
# as delivered msgs per zgate CPU second (zg_bench's per_server_cpu_s), all rates first; "@" in a key stands for
# nothing in the rate's key and ".cpu" in the CPU's. The first variant is the others' baseline
rows_rate_and_cpu() {
    local measure metric part variant scenario config key base
    for measure in "delivered msgs/s:" "delivered msgs per zgate CPU second:.cpu"; do
        metric=${measure%%:*}
        part=${measure#*:}
        base=
        for variant in "$@"; do
            IFS='|' read -r scenario config key <<< "$variant"
            key=${key/@/$part}
            row "$scenario" "$config" "$metric" "$key" "$base"
            base=${base:-$key}
        done
    done
}

# ---------------------------------------------------------------------------------------------------------
# Targets: the measured figure for each, met or not

# target description key op threshold [baseline_key]: compares the median (or its ratio to the baseline)
target() {
    local description=$1 key=$2 op=$3 threshold=$4 base=${5:-} value verdict
    value=$(stat_of "$key" median)
    if [ -n "$value" ] && [ -n "$base" ]; then
        local base_value
        base_value=$(stat_of "$base" median)
        value=$( [ -n "$base_value" ] && awk -v a="$value" -v b="$base_value" 'BEGIN { printf "%.2f", a / b }' )
        # Measured in alternating pairs: the median of their ratios, as the row says
        [ -s "$WORK/pair/$key" ] && value=$(pair_median "$key")
    fi
    [ -n "$ONLY" ] && [ -z "$value" ] && return 0
    if [ -z "$value" ]; then
        verdict="no number"
        value="-"
    else
        verdict=$(awk -v v="$value" -v t="$threshold" -v op="$op" \
            'BEGIN { print ((op == ">=" && v >= t) || (op == "<" && v < t) || (op == "<=" && v <= t))? "met": "NOT met" }')
        # A delivered rate reached while zgate dropped messages says so
        if [ -s "$WORK/loss/$key" ]; then
            verdict=$verdict$(awk '{ d += $1; e += $2 }
                END { if (d < e) printf ", with %.1f%% not delivered", 100 * (e - d) / e }' "$WORK/loss/$key")
        fi
        [ -n "$base" ] || value=$(fmt "$value" "$description")
    fi
    printf '%s\t%s %s\t%s\t%s\n' "$description" "$op" "$threshold" "$value" "$verdict" >> "$TARGETS"
}

# The report: bench/results/latest.md and latest.csv (partial.* with --only), the table and the summary line
write_results() {
    local end_load elapsed revision scenario config metric median min max count base ratio cpu rss note
    end_load=$(cut -d' ' -f1-3 /proc/loadavg)
    elapsed=$(( $(date -u +%s) - START_TIME ))
    revision=$(git -C "$ROOT" rev-parse --short HEAD 2> /dev/null || echo unknown)
    mkdir -p "$RESULTS"
    local csv=$RESULTS/latest.csv md=$RESULTS/latest.md
    [ -z "$ONLY" ] || csv=$RESULTS/partial.csv md=$RESULTS/partial.md
    {
        echo "scenario,configuration,metric,zgate_median,zgate_min,zgate_max,runs,baseline_median,ratio,cpu_split,zgate_rss_max,note"
        awk -F'\t' '{ for (i = 1; i <= NF; i++) { if ($i == "-") $i = ""; gsub(/"/, "\"\"", $i)
                                                   printf "%s\"%s\"", (i > 1? ",": ""), $i }
                      print "" }' "$ROWS"
    } > "$csv"
    {
        echo "# zgate benchmarks"
        echo
        echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $revision (plus uncommitted changes, if any),"
        echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')),"
        echo "mode $([ "$QUICK" = 1 ] && echo "--quick (smoke test: small counts, 1 run; figures are not meaningful)" || echo "full, $RUNS runs per figure")${ONLY:+, only $ONLY},"
        echo "${elapsed} s; load average $START_LOAD at start, $end_load at end."
        echo "The machine's 2 cores are shared by the load generator and zgate (and, during development, other"
        echo "builds): read the CPU split with each figure. Reproduce with \`bench/run.sh\`."
        echo
        echo "| scenario | configuration | metric | zgate (median) | min | max | runs | baseline (median) | ratio | CPU split | zgate RSS | note |"
        echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        while IFS=$'\t' read -r scenario config metric median min max count base ratio cpu rss note; do
            if [ "$scenario" = baseline ]; then
                printf '| %s | %s | %s | | | | %s | %s (%s..%s) | | %s | %s | %s |\n' "$scenario" "$config" "$metric" \
                    "$count" "$(fmt "$median" "$metric")" "$(fmt "$min" "$metric")" "$(fmt "$max" "$metric")" "$cpu" \
                    "$rss" "$note"
            else
                printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$scenario" "$config" \
                    "$metric" "$(fmt "$median" "$metric")" "$(fmt "$min" "$metric")" "$(fmt "$max" "$metric")" \
                    "$count" "$(fmt "$base" "$metric")" \
                    "$ratio" "$cpu" "$rss" "$note"
            fi
        done < "$ROWS"
        echo
        echo "Ratios are zgate / baseline: for rates higher is better, for latencies lower is better."
        echo
        echo "## Targets (issues #16, #10 and #6)"
        echo
        echo "| target | threshold | measured | verdict |"
        echo "| --- | --- | --- | --- |"
        awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$TARGETS"
    } > "$md"
    echo
    { printf 'SCENARIO\tCONFIGURATION\tMETRIC\tZGATE\tMIN\tMAX\tRUNS\tBASELINE\tRATIO\tCPU\tRSS\tNOTE\n'
      cat "$ROWS"; } \
        | column -t -s $'\t' 2> /dev/null || cat "$ROWS"
    echo
    column -t -s $'\t' "$TARGETS" 2> /dev/null || cat "$TARGETS"
    echo
    echo "wrote $md and $csv"
    awk -F'\t' '$12 ~ /^not available/ { skipped++; next } $12 == "NO NUMBER" { failed++; next } { passed++ }
        END { printf "bench: %d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$ROWS"
}
