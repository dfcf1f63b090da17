#!/usr/bin/env bash
# The local hash cache: a re-run of `--compare-hash=MD5` over 4 x 256 MiB of unchanged
# files, local -> Blob (a strict Azurite on loopback, data on tmpfs), with the cache cold
# (every record removed before the run: every file is read and hashed) and warm (the records
# of the previous run: no file is read). Runs alternate cold and warm; medians of $REPEATS.
#
#   bash bench/hash_cache.sh
#   REPEATS=5 MODE=XAttr bash bench/hash_cache.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/dev/shm/s3sync-bench-hash}
repeats=${REPEATS:-3}
mode=${MODE:-HiddenFiles}
ours_bin=$root/target/x86_64-unknown-linux-musl/release/s3sync
azurite=$root/target/test-tools/azurite/node_modules/.bin/azurite-blob
tools_dir=$root/target/bench-tools
python=$tools_dir/venv/bin/python
export AZURE_STORAGE_ACCOUNT=devstoreaccount1
export AZURE_STORAGE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

. "$root/bench/common.sh"

[ -x "$azurite" ] || npm install --silent --prefix "$root/target/test-tools/azurite" azurite@3.37.0
[ -x "$python" ] || python3 -m venv "$tools_dir/venv"
"$python" -c 'import azure.storage.blob' 2> /dev/null ||
    "$tools_dir/venv/bin/pip" install --quiet --disable-pip-version-check azure-storage-blob
command -v /usr/bin/time > /dev/null || apt-get install -y -qq time > /dev/null
command -v musl-gcc > /dev/null || apt-get install -y -qq musl-tools > /dev/null
rustup target add x86_64-unknown-linux-musl > /dev/null 2>&1 || true
(cd "$root" && cargo build --release --quiet --target x86_64-unknown-linux-musl)

mkdir -p "$work/data"
data=$work/data/large
if [ ! -d "$data" ]; then
    mkdir -p "$data"
    for i in 1 2 3 4; do head -c $((256 << 20)) /dev/urandom > "$data/big$i"; done
fi
rm -rf "$work/azurite"
mkdir -p "$work/azurite"
port=$(free_port)
"$azurite" --blobHost 127.0.0.1 --blobPort "$port" --location "$work/azurite" --silent \
    --disableTelemetry > "$work/azurite.log" 2>&1 &
azurite_pid=$!
trap 'kill $azurite_pid 2> /dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break; sleep 0.1; done
endpoint=http://127.0.0.1:$port/devstoreaccount1
"$python" "$root/bench/blob.py" "$endpoint" mkcontainer bench
target=$endpoint/bench/h/
"$ours_bin" "$data" "$target" > /dev/null
run_once() { measure "'$ours_bin' --compare-hash=MD5 --local-hash-storage-mode=$mode '$data' '$target'"; }
clear_cache() {
    find "$data" -name '.*.s3sync-hash' -delete
    if [ "$mode" = XAttr ]; then
        for f in "$data"/big*; do python3 -c 'import os,sys; os.removexattr(sys.argv[1], "user.s3sync.hash")' "$f" 2> /dev/null || true; done
    fi
}
: > "$work/cold" && : > "$work/warm"
for r in $(seq "$repeats"); do
    clear_cache
    run_once >> "$work/cold"
    run_once >> "$work/warm"
    log "repeat $r: cold $(tail -1 "$work/cold"), warm $(tail -1 "$work/warm")"
done
row() { printf '| %s | %s / %s / %.1f |\n' "$1" "$(cut -d' ' -f1 "$2" | median)" \
    "$(cut -d' ' -f2 "$2" | median)" "$(cut -d' ' -f3 "$2" | median | awk '{ print $1 / 1024 }')"; }
echo "| re-run of --compare-hash=MD5, 4 x 256 MiB unchanged ($mode) | wall s / CPU s / RSS MiB |"
echo "|---|---|"
row "cold cache (every file read)" "$work/cold"
row "warm cache (no file read)" "$work/warm"
