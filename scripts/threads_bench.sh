#!/bin/bash
# How a run shares a loaded CPU: `seekmath pretrain --config smoke` alone and next to one niced CPU-bound
# process, with three OpenMP settings: the runtime's default (threads spin between parallel regions),
# seekmath's default (OMP_WAIT_POLICY=PASSIVE: idle threads sleep) and one thread (OMP_NUM_THREADS=1).
# Prints wall and CPU seconds per run; compare ratios within one invocation (the machine may be shared).
# Usage: scripts/threads_bench.sh [SEEKMATH] [ROUNDS]
set -u
SEEKMATH="${1:-.venv/bin/seekmath}"
ROUNDS="${2:-2}"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"; [ -n "${HOG:-}" ] && kill "$HOG" 2>/dev/null' EXIT
run() {  # label, env assignments...
    label=$1; shift
    /usr/bin/time -f "%e %U %S" -o "$OUT/time" env "$@" "$SEEKMATH" pretrain --config smoke --out "$OUT/$label" \
        > /dev/null 2>&1
    read -r wall user sys < "$OUT/time"
    rm -rf "${OUT:?}/$label"
    printf '%-22s wall %6.1f s  cpu %6.1f s  load %s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)" \
        "$(cut -d' ' -f1 /proc/loadavg)"
}
for round in $(seq "$ROUNDS"); do
    for hog in alone busy; do
        HOG=
        if [ "$hog" = busy ]; then nice -n 10 python3 -c 'while 1: pass' & HOG=$!; fi
        run "spin-$hog" OMP_WAIT_POLICY=
        run "passive-$hog"
        run "1thread-$hog" OMP_NUM_THREADS=1
        if [ -n "$HOG" ]; then kill "$HOG"; wait "$HOG" 2>/dev/null; HOG=; fi
    done
done
