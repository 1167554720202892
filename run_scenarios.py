"""Run every shipped scenario into outputs/ (no arguments), or pass arguments to `tokensim`."""

import sys
from pathlib import Path

from sim.cli import main

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    arguments = sys.argv[1:] or ["run", str(HERE / "scenarios"), "--out", str(HERE / "outputs")]
    sys.exit(main(arguments))
