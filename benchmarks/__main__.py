"""``python -m benchmarks [--quick] [--out FILE]``: the same as ``runway bench``."""

import typer

from runway.bench import bench

if __name__ == "__main__":
    typer.run(bench)
