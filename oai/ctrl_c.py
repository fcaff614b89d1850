"""A Ctrl-C that cannot be lost: noted as well as raised.

Python drops an exception raised inside a finalizer or a weakref callback (it prints
"Exception ignored in …" and goes on): a Ctrl-C that lands there while an import runs
would be lost, and the import would go on to commit what the user asked to stop. The
handler below notes each Ctrl-C before it raises KeyboardInterrupt as Python's own does,
and the import asks :meth:`CtrlC.check` between lines and before it commits.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class CtrlC:
    def __init__(self) -> None:
        self.pressed = False

    def check(self) -> None:
        """Raise the interruption again if one was noted (it may have been swallowed)."""
        if self.pressed:
            raise KeyboardInterrupt

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.pressed = True
        raise KeyboardInterrupt


@contextmanager
def noted_ctrl_c() -> Iterator[CtrlC]:
    """While the block runs, SIGINT is noted and raised; only the main thread can
    install a handler, so elsewhere nothing is noted and ``check`` never raises."""
    ctrl_c = CtrlC()
    if threading.current_thread() is not threading.main_thread():
        yield ctrl_c
        return
    previous = signal.signal(signal.SIGINT, ctrl_c._handle)
    previous_hook = sys.unraisablehook

    def quiet_about_ctrl_c(unraisable: Any) -> None:
        # Noted, and raised again by ``check``: Python's "Exception ignored in …"
        # traceback would only bury the one line that reports the interruption.
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)

    sys.unraisablehook = quiet_about_ctrl_c
    try:
        yield ctrl_c
    finally:
        sys.unraisablehook = previous_hook
        signal.signal(signal.SIGINT, previous)
