#!/usr/bin/env bash
# The Azure Blob side of the benchmark: s3sync against azcopy and rclone, all talking to one
# Azurite (strict mode, data on tmpfs) on loopback, at each tool's default settings. The
# S3 side is bench/run.sh; both share bench/common.sh.
#
#   bash bench/azure.sh                                   # everything, 3 repeats
#   REPEATS=5 TOOLS="ours rclone" WORKLOADS="small-up small-noop" bash bench/azure.sh
#   SMALL=2000 bash bench/azure.sh                        # 2,000 small objects, not 10,000
#
# Workloads: small-up (10,000 x 10 KiB local -> Blob), small-noop (the same again),
# small-down, small-copy (container -> container), large-up (4 x 256 MiB), large-down,
# large-copy. Every measured run writes to a prefix of its own; downloads and copies read
# a reference set uploaded by ours. The first repeat of each tool is checked: object count
# and the MD5 of one object, read back. Large uploads and copies get a fresh Azurite each
# repeat, as Azurite frees deleted blobs' space only in a garbage collection every 10 min.
#
# How each tool authenticates: ours with the account key (AZURE_STORAGE_ACCOUNT/KEY),
# azcopy with a container SAS in each URL (it signs no SharedKey requests), rclone with an
# account SAS URL (its azureblob backend in Debian's 1.60 takes `endpoint` as a DNS suffix
# after the account name, so it cannot name a path-style emulator URL on another port).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools_dir=$root/target/bench-tools
work=${BENCH_DIR:-/dev/shm/s3sync-bench-azure}
repeats=${REPEATS:-3}
tools=${TOOLS:-"ours azcopy rclone"}
workloads=${WORKLOADS:-"small-up small-noop small-down small-copy large-up large-down large-copy"}
small_n=${SMALL:-10000}
ours_bin=$root/target/x86_64-unknown-linux-musl/release/s3sync
azurite=$root/target/test-tools/azurite/node_modules/.bin/azurite-blob
azcopy=$tools_dir/azcopy/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64
python=$tools_dir/venv/bin/python
# Azurite's published development account.
export AZURE_STORAGE_ACCOUNT=devstoreaccount1
export AZURE_STORAGE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZCOPY_DISABLE_SYSLOG=true AZCOPY_LOG_LOCATION=$work/azcopy/logs AZCOPY_JOB_PLAN_LOCATION=$work/azcopy/plans
export RCLONE_CONFIG_AZ_TYPE=azureblob RCLONE_CONFIG=$work/rclone.conf

. "$root/bench/common.sh"

install_tools() {
    mkdir -p "$tools_dir"
    [ -x "$azurite" ] || npm install --silent --prefix "$root/target/test-tools/azurite" azurite@3.37.0
    if [ ! -x "$azcopy" ]; then
        npm install --silent --prefix "$tools_dir/azcopy" @azure-tools/azcopy-linux@10.32.2
        chmod +x "$azcopy" # the package ships it without the execute bit
    fi
    # azcopy is linked against libsecret even when it stores no credentials.
    [ -e /usr/lib/x86_64-linux-gnu/libsecret-1.so.0 ] || apt-get install -y -qq libsecret-1-0 > /dev/null
    [ -x "$python" ] || python3 -m venv "$tools_dir/venv"
    "$python" -c 'import azure.storage.blob' 2> /dev/null ||
        "$tools_dir/venv/bin/pip" install --quiet --disable-pip-version-check azure-storage-blob
    command -v rclone > /dev/null || apt-get install -y -qq rclone > /dev/null
    command -v /usr/bin/time > /dev/null || apt-get install -y -qq time > /dev/null
    command -v musl-gcc > /dev/null || apt-get install -y -qq musl-tools > /dev/null
    rustup target add x86_64-unknown-linux-musl > /dev/null 2>&1 || true
    (cd "$root" && cargo build --release --quiet --target x86_64-unknown-linux-musl)
}

blob() { "$python" "$root/bench/blob.py" "$endpoint" "$@"; }

stop_azurite() {
    if [ -n "${azurite_pid:-}" ]; then
        kill "$azurite_pid" 2> /dev/null || true
        wait "$azurite_pid" 2> /dev/null || true
        azurite_pid=
    fi
}

# A fresh Azurite on a free port with empty containers bench (uploads), ref (reference
# sets) and dst (copy targets), and the SAS tokens the peers authenticate with.
start_azurite() {
    stop_azurite
    port=$(free_port)
    endpoint=http://127.0.0.1:$port/devstoreaccount1
    rm -rf "$work/store" && mkdir -p "$work/store"
    "$azurite" --blobHost 127.0.0.1 --blobPort "$port" --location "$work/store" --silent --disableTelemetry \
        > "$work/azurite.log" 2>&1 &
    azurite_pid=$!
    local up=
    for _ in $(seq 100); do
        (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && up=1 && break
        sleep 0.1
    done
    [ -n "$up" ] || { log "Azurite did not start; see $work/azurite.log"; exit 1; }
    blob mkcontainer bench ref dst
    declare -gA sas
    for c in bench ref dst; do sas[$c]=$(blob sas "$c"); done
    export RCLONE_CONFIG_AZ_SAS_URL="$endpoint?$(blob sas)"
}

# A reference set that downloads and copies read: local directory $1 uploaded by ours to
# ref/$2/.
upload_ref() {
    log "uploading the $2 reference set"
    "$ours_bin" "$1" "$endpoint/ref/$2/" > /dev/null
}

# Locations are local paths or blob:CONTAINER/PATH; each tool spells them its own way.
where() {
    local tool=$1 place=$2
    if [[ $place != blob:* ]]; then
        echo "$place"
        return
    fi
    local path=${place#blob:} container=${place#blob:}
    container=${container%%/*}
    case $tool in
        ours) echo "$endpoint/$path/" ;;
        azcopy) echo "'$endpoint/$path?${sas[$container]}'" ;;
        rclone) echo "az:$path" ;;
    esac
}

# The command a tool runs to sync $2 to $3.
command_for() {
    local tool=$1 from=$2 to=$3 pre=
    # azcopy wants a local target to exist; the others create it.
    [[ $to != blob:* ]] && pre="mkdir -p $to && "
    local f t
    f=$(where "$tool" "$from") t=$(where "$tool" "$to")
    case $tool in
        ours) echo "$pre$ours_bin $f $t" ;;
        azcopy)
            local kinds=Local
            [[ $from == blob:* ]] && kinds=Blob
            [[ $to == blob:* ]] && kinds+=Blob || kinds+=Local
            echo "$pre$azcopy sync $f $t --from-to=$kinds"
            ;;
        rclone) echo "${pre}rclone sync $f $t" ;;
    esac
}

# Checks what a first run left at $2 (local path or blob:...): how many objects, and the
# MD5 of one of them ($3, relative) against the local original ($4).
verify() {
    local label=$1 place=$2 one=$3 original=$4 expected=$5 count digest
    if [[ $place == blob:* ]]; then
        local path=${place#blob:} container
        container=${path%%/*} path=${path#*/}
        count=$(blob count "$container" "$path/")
        digest=$(blob md5 "$container" "$path/$one" 2> /dev/null || echo missing)
    else
        count=$(find "$place" -type f | wc -l)
        digest=$( (md5sum "$place/$one" 2> /dev/null || echo missing) | cut -d' ' -f1)
    fi
    local want
    want=$(md5sum "$original" | cut -d' ' -f1)
    if [ "$count" = "$expected" ] && [ "$digest" = "$want" ]; then
        echo "$label: ok ($count objects, $one MD5 matches)" >> "$checks"
    else
        echo "$label: INCOMPLETE ($count of $expected objects, $one MD5 $digest, want $want)" >> "$checks"
    fi
    log "$(tail -1 "$checks")"
}

run_workload() {
    local workload=$1 tool=$2 rep=$3 mine=$2-$3 from to n=$small_n one=d00/f00000 original
    original=$small_dir/$one
    case $workload in
        small-up | small-noop) from=$small_dir to=blob:bench/$mine/small ;;
        small-down) from=blob:ref/small to=$work/down ;;
        small-copy) from=blob:ref/small to=blob:dst/$mine/small-copy ;;
        large-up) from=$work/data/large to=blob:bench/$mine/large ;;
        large-down) from=blob:ref/large to=$work/down ;;
        large-copy) from=blob:ref/large to=blob:dst/$mine/large-copy ;;
    esac
    if [[ $workload == large-* ]]; then
        n=4 one=big1 original=$work/data/large/big1
    fi
    rm -rf "$work/down" "$work/azcopy"
    mkdir -p "$AZCOPY_LOG_LOCATION" "$AZCOPY_JOB_PLAN_LOCATION"
    measure "$(command_for "$tool" "$from" "$to")"
    [ "$rep" = 1 ] && verify "$workload $tool" "$to" "$one" "$original" "$n"
    rm -rf "$work/down" "$work/azcopy"
}

install_tools
mkdir -p "$work"
touch "$RCLONE_CONFIG"
trap stop_azurite EXIT
make_local_data
small_dir=$work/data/small
if [ "$small_n" != 10000 ]; then
    # The first SMALL/100 of the 100 directories (100 files each).
    small_dir=$work/data/small-$small_n
    if [ ! -d "$small_dir" ]; then
        mkdir -p "$small_dir"
        for d in $(seq -f 'd%02g' 0 $((small_n / 100 - 1))); do cp -r "$work/data/small/$d" "$small_dir/"; done
    fi
fi

results=$work/results.txt checks=$work/checks.txt
: > "$results"
: > "$checks"
# What the running server holds: small-noop needs small-up's objects, so the small
# workloads share one server; large uploads and copies start from an empty one each repeat.
holds=
for workload in $workloads; do
    for rep in $(seq "$repeats"); do
        case $workload in
            small-*)
                if [ "$holds" != small ]; then
                    start_azurite
                    upload_ref "$small_dir" small
                    holds=small
                fi
                ;;
            large-up) start_azurite && holds= ;;
            large-down)
                if [ "$holds" != large ]; then
                    start_azurite
                    upload_ref "$work/data/large" large
                    holds=large
                fi
                ;;
            large-copy)
                start_azurite
                upload_ref "$work/data/large" large
                holds=
                ;;
        esac
        for tool in $tools; do
            read -r wall cpu rss status <<< "$(run_workload "$workload" "$tool" "$rep")"
            echo "$workload $tool $wall $cpu $rss $status" >> "$results"
            log "$workload $tool #$rep: wall ${wall}s cpu ${cpu}s rss ${rss} KiB"
        done
    done
done

print_table "$results" "$workloads" "$tools"
echo
echo "Checks of each tool's first run:"
sed 's/^/- /' "$checks"
