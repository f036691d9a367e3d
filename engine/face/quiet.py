"""LiteRT's one line on stderr, kept off the console.

Creating the first interpreter of a process with the XNNPACK delegate (the fast CPU path) makes
LiteRT print "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." straight to file
descriptor 2; neither an interpreter option nor an environment variable stops it
(``TF_CPP_MIN_LOG_LEVEL`` doesn't reach its logger), and going without the delegate makes each
face model 3-4x slower. So while the first interpreter is made, descriptor 2 points at a file;
what else was written there meanwhile (another thread's log line) is passed on afterwards.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

NOTICE = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
_lock = threading.Lock()
_done = False  # LiteRT prints the notice once a process


@contextmanager
def delegate_notice_hidden() -> Iterator[None]:
    """Run the block with LiteRT's delegate notice filtered out of descriptor 2 (the first time only)."""
    global _done
    with _lock:
        if _done:
            yield
            return
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as caught:
            os.dup2(caught.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                _done = True
                caught.seek(0)
                rest = b"".join(line for line in caught if not line.startswith(NOTICE))
                if rest:
                    os.write(2, rest)
