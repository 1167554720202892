"""Write an output folder all or nothing: into a hidden temporary folder, then renamed into place.

Why: an interrupted validation or calibration must never leave a folder that looks finished.
The same pattern as `sim.outputs.write_run`, for folders whose contents are not a run's.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def write_folder(final: Path, fill: Callable[[Path], None]) -> Path:
    """Call `fill(partial)` on an empty temporary folder beside `final`, then replace `final` with it."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.parent / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        partial.mkdir()
        fill(partial)
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final
