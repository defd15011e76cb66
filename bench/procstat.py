"""What a server process, and the machine, used, read from /proc (Linux): CPU time and peak
resident memory."""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process (all its threads) so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; the fields after its ")" are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the highest resident set size the process reached since it started."""
    return _status_kib(pid, "VmHWM") / 1024


def rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmRSS") / 1024


def machine_busy_seconds() -> float:
    """CPU time all cores together spent working since boot, whoever did it: user, nice,
    system, interrupts (not idle, not waiting for the disk, not stolen by a hypervisor)."""
    first = Path("/proc/stat").read_text().split("\n", 1)[0]
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in first.split()[1:8])
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def cores() -> int:
    return os.cpu_count() or 1
