#!/bin/bash
# The real services the fleet tests use, started and stopped the same way by CI (through pytest's
# fixtures) and by developers:
#
#   tests/services.sh slurm-start     munged, slurmctld and three slurmd as root: a 3-node Slurm cluster
#                                     on this one machine (PROVISION_SLURM_NODES for another count)
#   tests/services.sh slurm-stop
#   tests/services.sh slurm-kill-node NODE   stop one node's slurmd
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

NODES="${PROVISION_SLURM_NODES:-3}"  # slurmd daemons on this one machine, each a node of its own (n1, n2, ...)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

slurm_start() {
    # A multi-node cluster on one machine, as Debian's slurm-wlm allows: one `slurmd -N nK` per node,
    # each with its own port (NodeAddr 127.0.0.1), spool, pid and log file (%n), and a munge socket and
    # slurmctld port of their own, so nothing of the machine's own Slurm or munge is touched.
    need munged slurmctld slurmd sinfo mungekey python3
    local host; host="$(hostname -s)"
    local cpus; cpus="$(nproc)"
    local memory; memory=$(( ($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024) / NODES ))
    mkdir -p "$STATE/slurm/spool/ctld" "$STATE/munge" /run/munge
    [ -f "$STATE/munge/munge.key" ] || mungekey --create --keyfile="$STATE/munge/munge.key"
    chmod 0600 "$STATE/munge/munge.key"
    if ! [ -S "$STATE/munge/munge.socket" ]; then
        munged --force --key-file="$STATE/munge/munge.key" --socket="$STATE/munge/munge.socket" \
            --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" --seed-file="$STATE/munge/seed"
    fi
    export SLURM_CONF="$STATE/slurm/slurm.conf"
    if [ -f "$STATE/slurm/slurmctld.pid" ] && kill -0 "$(cat "$STATE/slurm/slurmctld.pid")" 2>/dev/null; then
        echo "export SLURM_CONF=$SLURM_CONF"
        return  # already running
    fi
    local names="" node_lines="" k
    for k in $(seq "$NODES"); do
        names+="${names:+,}n$k"
        node_lines+="NodeName=n$k NodeHostname=$host NodeAddr=127.0.0.1 Port=$(free_port) CPUs=$cpus"
        node_lines+=" RealMemory=$memory State=UNKNOWN"$'\n'
    done
    cat > "$SLURM_CONF" <<CONF
ClusterName=provision-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$STATE/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE/slurm/spool/ctld
SlurmdSpoolDir=$STATE/slurm/spool/d-%n
SlurmctldPidFile=$STATE/slurm/slurmctld.pid
SlurmdPidFile=$STATE/slurm/slurmd-%n.pid
SlurmctldLogFile=$STATE/slurm/slurmctld.log
SlurmdLogFile=$STATE/slurm/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
${node_lines}PartitionName=debug Nodes=$names Default=YES MaxTime=INFINITE State=UP
CONF
    slurmctld -f "$SLURM_CONF"
    for k in $(seq "$NODES"); do
        mkdir -p "$STATE/slurm/spool/d-n$k"
        slurmd -f "$SLURM_CONF" -N "n$k"
    done
    for _ in $(seq 120); do
        if [ "$(sinfo -h -N -o '%N %t' 2>/dev/null | grep -cE ' (idle|mix|alloc)$')" -eq "$NODES" ]; then
            echo "export SLURM_CONF=$SLURM_CONF"
            return
        fi
        sleep 0.25
    done
    echo "services.sh: $NODES slurmd nodes did not all come up; see $STATE/slurm/*.log" >&2
    sinfo -N >&2 || true
    tail -n 5 "$STATE/slurm/slurmctld.log" "$STATE"/slurm/slurmd-*.log >&2 || true
    slurm_stop  # a failed start stops what it started
    exit 1
}

slurm_stop() {
    local pidfile
    for pidfile in "$STATE"/slurm/slurmd-*.pid "$STATE/slurm/slurmctld.pid" "$STATE/munge/munged.pid"; do
        if [ -f "$pidfile" ]; then
            kill "$(cat "$pidfile")" 2>/dev/null || true
            rm -f "$pidfile"
        fi
    done
    rm -f "$STATE/munge/munge.socket"
}

slurm_kill_node() {
    # A node that dies: its slurmd stops, so the job's step on it fails and its report never comes.
    local pidfile="$STATE/slurm/slurmd-$1.pid"
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" && rm -f "$pidfile"
}

case "${1:-}" in
    slurm-start) slurm_start ;;
    slurm-stop) slurm_stop ;;
    slurm-kill-node) slurm_kill_node "$2" ;;
    podman-base) podman_base ;;
    podman-env) podman_env ;;
    *) echo "usage: tests/services.sh slurm-start|slurm-stop|slurm-kill-node NODE|podman-base|podman-env" >&2
       exit 2 ;;
esac
