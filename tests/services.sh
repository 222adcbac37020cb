#!/bin/bash
# The real services the fleet tests use, started and stopped the same way by CI (through pytest's
# fixtures) and by developers:
#
#   tests/services.sh slurm-start     munged, slurmctld and slurmd as root: a single-node Slurm cluster
#   tests/services.sh slurm-stop
#   tests/services.sh podman-base     a local base image (debootstrap minbase + python3, `podman import`)
#   tests/services.sh podman-env      the environment podman needs here (eval it)
#
# Debian's packages: slurm-wlm, munge, podman, buildah, runc, debootstrap (tests/run-all installs them).
# No systemd: the daemons run in the background with their state under $PROVISION_SERVICES.
set -euo pipefail

STATE="${PROVISION_SERVICES:-/tmp/provision-services}"
BASE_IMAGE="${PROVISION_BASE_IMAGE:-localhost/provision-base:bookworm}"
SUITE=bookworm
ARCHIVE="${PROVISION_DEBIAN_ARCHIVE:-http://deb.debian.org/debian}"  # the archive apt already uses here

need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "services.sh: $tool not found; run tests/run-all (it installs it)" >&2; exit 1; }
    done
}

podman_env() {
    # runc, not crun (crun fails on this cgroup setup); ulimits the sandbox allows (otherwise
    # containers fail with `setrlimit RLIMIT_NOFILE: Operation not permitted`).
    mkdir -p "$STATE/podman"
    cat > "$STATE/podman/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF
    echo "export CONTAINERS_CONF=$STATE/podman/containers.conf"
}

podman_base() {
    need podman runc debootstrap
    eval "$(podman_env)"
    if podman image exists "$BASE_IMAGE"; then
        echo "$BASE_IMAGE: already here"
        return
    fi
    local rootfs="$STATE/podman/rootfs"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=python3 "$SUITE" "$rootfs" "$ARCHIVE" > "$STATE/podman/debootstrap.log" 2>&1 \
        || { tail -5 "$STATE/podman/debootstrap.log" >&2; exit 1; }
    tar -C "$rootfs" -c . | podman import - "$BASE_IMAGE" > /dev/null
    rm -rf "$rootfs"
    echo "$BASE_IMAGE: imported"
}

slurm_start() {
    need munged slurmctld slurmd sinfo mungekey
    local node; node="$(hostname -s)"
    local cpus; cpus="$(nproc)"
    local memory; memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
    mkdir -p "$STATE/slurm/spool/ctld" "$STATE/slurm/spool/d" "$STATE/munge" /run/munge
    [ -f "$STATE/munge/munge.key" ] || mungekey --create --keyfile="$STATE/munge/munge.key"
    chmod 0600 "$STATE/munge/munge.key"
    if ! [ -S "$STATE/munge/munge.socket" ]; then
        munged --force --key-file="$STATE/munge/munge.key" --socket="$STATE/munge/munge.socket" \
            --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" --seed-file="$STATE/munge/seed"
    fi
    cat > "$STATE/slurm/slurm.conf" <<EOF
ClusterName=provision-ci
SlurmctldHost=$node
AuthType=auth/munge
AuthInfo=socket=$STATE/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE/slurm/spool/ctld
SlurmdSpoolDir=$STATE/slurm/spool/d
SlurmctldPidFile=$STATE/slurm/slurmctld.pid
SlurmdPidFile=$STATE/slurm/slurmd.pid
SlurmctldLogFile=$STATE/slurm/slurmctld.log
SlurmdLogFile=$STATE/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
NodeName=$node CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$STATE/slurm/slurm.conf"
    pgrep -f "slurmctld -f $SLURM_CONF" >/dev/null || slurmctld -f "$SLURM_CONF"
    pgrep -f "slurmd -f $SLURM_CONF" >/dev/null || slurmd -f "$SLURM_CONF"
    for _ in $(seq 60); do
        if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
            echo "export SLURM_CONF=$SLURM_CONF"
            return
        fi
        sleep 0.5
    done
    echo "services.sh: slurmd did not come up; see $STATE/slurm/*.log" >&2
    tail -5 "$STATE/slurm/slurmctld.log" "$STATE/slurm/slurmd.log" >&2 || true
    exit 1
}

slurm_stop() {
    for pidfile in "$STATE/slurm/slurmd.pid" "$STATE/slurm/slurmctld.pid" "$STATE/munge/munged.pid"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    rm -f "$STATE/munge/munge.socket"
}

case "${1:-}" in
    slurm-start) slurm_start ;;
    slurm-stop) slurm_stop ;;
    podman-base) podman_base ;;
    podman-env) podman_env ;;
    *) echo "usage: tests/services.sh slurm-start|slurm-stop|podman-base|podman-env" >&2; exit 2 ;;
esac
