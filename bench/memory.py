"""Peak memory of the current process, or of a command run in a process of its own.

`resource.getrusage(...).ru_maxrss` is kept across `exec` on Linux, so a child started by a process
that once used 7 GB reports 7 GB; the kernel's VmHWM belongs to the process's own address space.

`python -m bench.memory MODULE [ARGS...]` runs `python -m MODULE ARGS...` in this process and then
prints its peak as the last line of standard output, `{"peak_rss_mib": ..., "exit": ...}`.
"""
import json
import runpy
import sys
from pathlib import Path


def peak_rss_mib(pid: int | str = "self") -> float:
    """The peak resident memory (VmHWM) of this process, or of the process `pid`."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


def reset_peak(pid: int | str = "self") -> None:
    """Starts the peak of `pid` over from its memory now (Linux's `clear_refs` value 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def main() -> int:
    module, sys.argv = sys.argv[1], sys.argv[1:]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    print(json.dumps({"peak_rss_mib": peak_rss_mib(), "exit": code}), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
