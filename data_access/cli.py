"""What every command line of the project shares: one-line errors and the SPEC's exit codes.

0 done; 1 done with rejected input or a runtime failure; 2 bad arguments (the message says what is
wrong and what is accepted). No traceback reaches the user for a known failure.
"""
import sys
from collections.abc import Callable

from data_access.config import SettingError
from data_access.engine import DatabaseError
from data_access.filters import FilterError

EXIT_OK, EXIT_FAILED, EXIT_BAD_ARGUMENTS = 0, 1, 2


def fail(message: str, code: int = EXIT_BAD_ARGUMENTS) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def run(main: Callable[[], int]) -> None:
    """Runs a command's `main()` and exits with its code, turning known failures into one line."""
    try:
        code = main()
    except (DatabaseError, SettingError, FilterError) as exc:
        code = fail(str(exc))
    except KeyboardInterrupt:
        code = fail("interrupted", 130)
    sys.exit(code)
