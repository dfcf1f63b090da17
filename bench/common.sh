# Shared by bench/run.sh (S3) and bench/azure.sh (Azure Blob): data generation, measuring
# one run, medians and the markdown table. Expects $work (a tmpfs directory) to be set.

log() { printf '%s\n' "$*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 10,000 x 10 KiB in 100 directories and 4 x 256 MiB, generated once per $work.
make_local_data() {
    if [ ! -d "$work/data/small" ]; then
        log "generating 10,000 x 10 KiB and 4 x 256 MiB on $work"
        python3 - "$work/data/small" << 'PY'
import os, sys
root = sys.argv[1]
for i in range(10000):
    d = os.path.join(root, "d%02d" % (i % 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(os.urandom(10240))
PY
        mkdir -p "$work/data/large"
        for i in 1 2 3 4; do head -c $((256 << 20)) /dev/urandom > "$work/data/large/big$i"; done
    fi
}

# Prints "wall cpu rss_kb status" for one run of a command (CPU is user+sys of it and its
# children; status is ok or failed).
measure() {
    local status=ok
    if ! /usr/bin/time -o "$work/time.out" -f "%e %U %S %M" bash -c "$1" > /dev/null 2> "$work/last.err"; then
        log "FAILED: $1"
        tail -3 "$work/last.err" >&2
        status=failed
    fi
    # After a failure time(1) writes a line of its own before the numbers.
    tail -1 "$work/time.out" | awk -v s="$status" '{ printf "%.3f %.3f %d %s\n", $1, $2 + $3, $4, s }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The markdown table of a results file ("workload tool wall cpu rss_kb status" lines):
# medians per tool and workload, and the ratio of ours to each tool; a tool with failed runs
# is marked with how many of its runs failed.
print_table() {
    local results=$1 workloads=$2 tools=$3
    echo "| workload | tool | wall s | CPU s | peak RSS MiB | ours/tool wall | ours/tool CPU |"
    echo "|---|---|---|---|---|---|---|"
    local workload tool ours_wall ours_cpu wall cpu rss failed label
    for workload in $workloads; do
        ours_wall=$(awk -v w="$workload" '$1 == w && $2 == "ours" { print $3 }' "$results" | median)
        ours_cpu=$(awk -v w="$workload" '$1 == w && $2 == "ours" { print $4 }' "$results" | median)
        for tool in $tools; do
            wall=$(awk -v w="$workload" -v t="$tool" '$1 == w && $2 == t { print $3 }' "$results" | median)
            cpu=$(awk -v w="$workload" -v t="$tool" '$1 == w && $2 == t { print $4 }' "$results" | median)
            rss=$(awk -v w="$workload" -v t="$tool" '$1 == w && $2 == t { print $5 }' "$results" | median)
            failed=$(awk -v w="$workload" -v t="$tool" '$1 == w && $2 == t && $6 == "failed" { n++ } END { print n + 0 }' "$results")
            label=$tool
            [ "$failed" = 0 ] || label="$tool (FAILED $failed runs)"
            awk -v w="$workload" -v t="$label" -v a="$wall" -v c="$cpu" -v r="$rss" -v ow="$ours_wall" -v oc="$ours_cpu" \
                'BEGIN { printf "| %s | %s | %.2f | %.2f | %.1f | %.2f | %.2f |\n", w, t, a, c, r / 1024, (a > 0 ? ow / a : 0), (c > 0 ? oc / c : 0) }'
        done
    done
}
