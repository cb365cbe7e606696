#!/usr/bin/env python3
"""test_deploy.py - the deployment files say what the enclave design needs.

deploy/tee-worker.manifest.template is rendered the way gramine-manifest would (its Jinja
expressions replaced by sample values) and parsed as TOML; then: the variables that decide what
is trusted are fixed (STANDALONE=false, GRAMINE_ATTESTATION_DIR=/dev/attestation, DATA_DIR, and the
key distributor's public key and miners whitelist, rendered in at build time), the upstream
service endpoints (every URL setting) are fixed to their defaults, so a host cannot point the
enclave at its own server and have what it serves attested as X, Apify or TikTok data, every
other worker variable is a passthrough, remote attestation is DCAP, DATA_DIR is mounted and
allowed, the binary is trusted, debug is off. That every variable the worker reads appears at all
is checked by tests/unit/test_config.c. The Dockerfile has a build and a non-root runtime stage
on Debian 12, and docker-compose.yml mounts .masa as the data directory."""
import os
import re
import tomllib

import harness
from harness import check, check_eq

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIXED = {"STANDALONE": "false", "GRAMINE_ATTESTATION_DIR": "/dev/attestation",
         "DATA_DIR": "/home/masa", "TMPDIR": "/tmp",
         # rendered into the manifest (measured), never taken from the host
         "KEY_DISTRIBUTOR_PUBKEY": "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0K",
         "MINERS_WHITE_LIST": "11111111-2222-4333-8444-555555555555",
         # standalone fleets only: the enclave's ring comes from the key broker
         "SEALING_KEYS_FILE": ""}
SAMPLE = {"entrypoint": "/usr/local/bin/tee-worker", "gramine.libos": "/usr/lib/x86_64-linux-gnu/gramine/libsysdb.so",
          "log_level": "error", "arch_libdir": "/lib/x86_64-linux-gnu",
          "gramine.runtimedir()": "/usr/lib/x86_64-linux-gnu/gramine/runtime/glibc",
          "key_distributor_pubkey": FIXED["KEY_DISTRIBUTOR_PUBKEY"],
          "miners_white_list": FIXED["MINERS_WHITE_LIST"]}


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def config_variables():
    return re.findall(r'\{ "([A-Z0-9_]+)", VK_', read("src/config.c"))


def upstream_endpoints():
    """The URL settings and their defaults: in an enclave they must be what the source says."""
    found = dict(re.findall(r'\{ "([A-Z0-9_]+)", VK_URL, AT\(\w+\),\s*"([^"]*)"',
                            read("src/config.c")))
    check(len(found) >= 7, "could not read the URL settings of src/config.c: %r" % found)
    return found


def render(template):
    def sub(m):
        expr = m.group(1).strip()
        check(expr in SAMPLE, "manifest template: unknown expression {{ %s }}" % expr)
        return SAMPLE[expr]
    return re.sub(r"\{\{(.*?)\}\}", sub, template)


def test_manifest_template():
    manifest = tomllib.loads(render(read("deploy/tee-worker.manifest.template")))
    env = manifest["loader"]["env"]
    for name, value in FIXED.items():
        check_eq(env.get(name), value, "manifest fixes %s" % name)
    endpoints = upstream_endpoints()
    for name, default in endpoints.items():
        check_eq(env.get(name), default, "manifest fixes the upstream endpoint %s" % name)
    for name in config_variables():
        if name in FIXED or name in endpoints:
            continue
        check_eq(env.get(name), {"passthrough": True}, "manifest passes %s through" % name)
    sgx = manifest["sgx"]
    check_eq(sgx.get("remote_attestation"), "dcap", "sgx.remote_attestation")
    check_eq(sgx.get("debug"), False, "sgx.debug")
    check("file:" + SAMPLE["entrypoint"] in sgx["trusted_files"], "the worker binary is a trusted file")
    check("file:/home/masa/" in sgx["allowed_files"], "DATA_DIR is an allowed (plain) directory")
    mounts = {m["path"]: m for m in manifest["fs"]["mounts"]}
    check_eq(mounts.get("/home/masa", {}).get("uri"), "file:/home/masa", "DATA_DIR mount")
    check_eq(manifest["libos"]["entrypoint"], SAMPLE["entrypoint"], "libos.entrypoint")


def test_dockerfile_and_compose():
    docker = read("deploy/Dockerfile")
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", docker, re.M)
    check_eq([s for _, s in stages], ["build", "runtime", "sgx"], "Dockerfile stages")
    check(re.search(r"^ARG DEBIAN_IMAGE=debian:12", docker, re.M), "Debian 12 base image")
    runtime = docker.split("AS runtime", 1)[1].split("AS sgx", 1)[0]
    check(re.search(r"^USER masa$", runtime, re.M), "the runtime stage runs as masa, not root")
    check("-dev" not in runtime, "no -dev packages in the runtime stage")
    check("ENV DATA_DIR=/home/masa" in runtime, "DATA_DIR=/home/masa in the image")
    # The image builds with the same library packages scripts/deps.sh installs for a local build.
    deps = read("scripts/deps.sh")
    build_list = re.search(r"^build_pkgs=\((.*?)\)", deps, re.M | re.S).group(1)
    build_stage = docker.split("AS runtime", 1)[0]
    for pkg in re.findall(r"\b(lib[a-z0-9.+-]*-dev)\b", re.sub(r"#.*", "", build_list)):
        check(re.search(r"\b%s\b" % re.escape(pkg), build_stage),
              "the Dockerfile build stage installs %s (scripts/deps.sh build list)" % pkg)
    compose = read("deploy/docker-compose.yml")
    check("./.masa:/home/masa" in compose, "docker-compose mounts ./.masa as DATA_DIR")
    check('"8080:8080"' in compose, "docker-compose publishes 8080")
    unit = read("deploy/tee-worker.service")
    for line in ("User=masa", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/home/masa"):
        check(line in unit, "systemd unit: %s" % line)


if __name__ == "__main__":
    harness.main(globals())
