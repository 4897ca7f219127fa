#!/usr/bin/env bash
# A single-node Slurm cluster on this machine (Debian's slurm-wlm with munge), for testing
# `trainer sweep --slurm` for real: controller and compute node are localhost, one partition
# `local` with all cores. Idempotent; needs root (apt, /etc/slurm, the daemons).
#   bash scripts/slurm-local.sh          # install, configure, start; waits until the node is idle
#   bash scripts/slurm-local.sh stop     # stop the daemons
set -euo pipefail

if [ "${1:-}" = stop ]; then
  for d in slurmd slurmctld munged; do pkill -x "$d" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || pgrep -x munged >/dev/null || break
    sleep 0.5
  done
  echo "slurm-local: stopped"
  exit 0
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# munge: the authentication Slurm's daemons and clients share.
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key 2>/dev/null || true
chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
if ! pgrep -x munged >/dev/null; then
  if id munge >/dev/null 2>&1; then
    su -s /bin/sh munge -c "/usr/sbin/munged" 2>/dev/null || /usr/sbin/munged --force
  else
    /usr/sbin/munged --force
  fi
fi

host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
# Written by scripts/slurm-local.sh: a one-node cluster on localhost.
ClusterName=local
SlurmctldHost=${host}
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
# No cgroups in a container: track processes by their parent, no task confinement.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SchedulerType=sched/backfill
MpiDefault=none
NodeName=${host} CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=local Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
# Debian's packages read /etc/slurm/slurm.conf; older ones /etc/slurm-llnl.
[ -d /etc/slurm-llnl ] && cp /etc/slurm/slurm.conf /etc/slurm-llnl/slurm.conf

pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -n1 || true)
  case "$state" in
    idle*|mix*|alloc*) echo "slurm-local: node ${host} is ${state} (${cpus} CPUs, ${mem_mb} MB)"; exit 0 ;;
    down*|drain*) scontrol update nodename="${host}" state=resume 2>/dev/null || true ;;
  esac
  sleep 1
done
echo "slurm-local: the node did not come up; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
exit 1
