"""Peak memory of the current process.

`resource.getrusage(...).ru_maxrss` is kept across `exec` on Linux, so a child started by a process
that once used 7 GB reports 7 GB; the kernel's VmHWM belongs to the process's own address space.
"""
from pathlib import Path


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status")
