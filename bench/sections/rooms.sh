# bench/run.sh's rooms section (--only rooms): lockstep rounds with M members, a producer keeping a backlog;
# members speak version 2 (PROTOCOL.md 3.8), and 1,000 members version 1 too, alternately (the ratio of the
# 1,000-member row: version 2's gain)
# shellcheck shell=bash

bench_rooms() {
    local members count
    if ! has_component rooms; then
        for members in 1 10 100 1000; do
            row_unavailable "rooms" "$members member(s), 64 B" "rounds/s" rooms
        done
        return 0
    fi
    for members in 1 10 100 1000; do
        case $members in 1) count=20000 ;; 10) count=5000 ;; 100) count=1000 ;; *) count=300 ;; esac
        count=$(scaled "$count" 30)
        banner "rooms $members member(s), $count rounds"
        for _ in $(seq "$RUNS"); do
            measure_zgate "rooms.$members=rate rooms.$members.p50=p50_us rooms.$members.p99=p99_us" "" -- \
                "$GEN" rooms --endpoint @rooms-clients@ --clients "$members" --count "$count" --server-pid @pid@
            [ "$members" != 1000 ] || measure_zgate "rooms.1000.v1=rate" "" -- "$GEN" rooms --protocol 1 \
                --endpoint @rooms-clients@ --clients 1000 --count "$count" --server-pid @pid@
        done
        [ "$members" != 1000 ] || row "rooms, protocol version 1" "1000 members, 64 B" "rounds/s" rooms.1000.v1
        row "rooms" "$members member(s), 64 B" "rounds/s" "rooms.$members" \
            "$([ $members = 1 ] && echo raw.rtt; [ $members = 1000 ] && echo rooms.1000.v1)"
        row "rooms" "$members member(s), 64 B" "round time p50 us" "rooms.$members.p50" \
            "$([ $members = 1 ] && echo raw.rtt.p50)"
        row "rooms" "$members member(s), 64 B" "round time p99 us" "rooms.$members.p99" \
            "$([ $members = 1 ] && echo raw.rtt.p99)"
    done
}
