#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages tee-worker needs to build, test and run.
# Idempotent: checks each package first and does nothing when all are present.
# Usage: scripts/deps.sh [build|test]   (test adds the tools the test suite and CI use)
set -euo pipefail

build_pkgs=(gcc pkg-config meson ninja-build libmicrohttpd-dev libjansson-dev libssl-dev uuid-dev
            nettle-dev              # sealing's AES-GCM, SHA-256, HMAC, HKDF (src/util/crypto.c)
            libcurl4-openssl-dev libxml2-dev libsqlite3-dev
            libhiredis-dev          # the Redis store (fleet mode); 0.14 in Debian 12: no TLS
            libgnutls28-dev         # headers of src/http/gnutls_lazy.c (libmicrohttpd's HTTPS)
            libidn2-dev)            # headers of src/net/idn2_lazy.c (internationalized host names)
test_pkgs=(libcmocka-dev python3 valgrind clang libclang-rt-14-dev
           libgoogle-perftools4    # libprofiler, dlopened by /debug/pprof/profile (optional at run time)
           openssl                 # the command: test key pairs and TLS certificates
           redis-server)           # tests/e2e/test_fleet.py starts one on loopback

want=("${build_pkgs[@]}")
[ "${1:-build}" = "test" ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
