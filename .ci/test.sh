#!/usr/bin/env bash
# The project's test command: installs the test servers (two S3, one Azure Blob) when
# missing (into the ignored build area) and the shells the completion tests run, then runs
# lint, every test and the fuzz build.
#   s3s-fs 0.14.1  -> target/test-tools/cargo/bin/s3s-fs   (cargo install)
#   moto[server]   -> target/test-tools/venv/bin/moto_server (python venv)
#   azurite 3.37.0 -> target/test-tools/azurite/node_modules/.bin/azurite-blob (npm)
set -euo pipefail
cd "$(dirname "$0")/.."

tools=target/test-tools
mkdir -p "$tools"
if [ ! -x "$tools/cargo/bin/s3s-fs" ]; then
    echo "installing s3s-fs 0.14.1 into $tools/cargo" >&2
    cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$tools/cargo"
fi
if [ ! -x "$tools/venv/bin/moto_server" ]; then
    echo "installing moto[server] 5.2.5 into $tools/venv" >&2
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
fi
if [ ! -x "$tools/azurite/node_modules/.bin/azurite-blob" ]; then
    echo "installing azurite 3.37.0 into $tools/azurite" >&2
    npm install --prefix "$tools/azurite" --no-audit --no-fund --loglevel=error azurite@3.37.0
fi

# The shells whose completion scripts tests/cli.rs runs (bash is always there).
if ! command -v zsh > /dev/null || ! command -v fish > /dev/null || ! command -v elvish > /dev/null; then
    echo "installing zsh, fish and elvish (Debian packages)" >&2
    apt-get install -y -qq zsh fish elvish > /dev/null 2>&1 \
        || { apt-get update -qq > /dev/null && apt-get install -y -qq zsh fish elvish > /dev/null; }
fi

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo build --manifest-path fuzz/Cargo.toml --bins
cargo test --all-targets
