"""Regenerate the README's demo block (overview table, OOD gain, timings) from a real ``mmeb demo`` run.

    python scripts/update_readme_demo.py            # default seed and steps, a fresh temporary folder
    python scripts/update_readme_demo.py --check    # run, and fail if the README's numbers differ

The run is the command's own pipeline with its defaults; a second run measures the rerun (everything reused).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def main(argv: list[str] | None = None) -> int:
    from mmeb.demo import model as M
    from mmeb.demo import tasks as T
    from mmeb.demo.pipeline import DemoConfig, run_demo
    from mmeb.demo.report import readme_block, readme_table, replace_block
    from mmeb.evaluation.progress import quiet_third_party

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=M.DEFAULT_STEPS)
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the table differs")
    args = parser.parse_args(argv)
    quiet_third_party()
    load = os.getloadavg()[0]  # other work on the machine slows the run: say so beside the timings
    with tempfile.TemporaryDirectory(prefix="mmeb-demo-") as tmp:
        config = DemoConfig(out_dir=Path(tmp) / "demo", seed=args.seed, steps=args.steps)
        outcome = run_demo(config)
        started = time.perf_counter()
        run_demo(config)
        rerun = time.perf_counter() - started
    block = readme_block(board=outcome.board, seed=args.seed, steps=args.steps, n_ind=len(T.IND_TASKS),
                         n_ood=len(T.OOD_TASKS), ood_gain_points=outcome.ood_gain_points,
                         seconds=outcome.seconds, rerun_seconds=rerun,
                         machine=f"{os.cpu_count()} CPU cores, {config.threads} torch thread(s), load average "
                                 f"{load:.1f} at the start")
    text = README.read_text(encoding="utf-8")
    if args.check:
        same = readme_table(text) == readme_table(block)
        print("README demo table matches the run" if same else "README demo table differs from the run")
        return 0 if same else 1
    README.write_text(replace_block(text, block), encoding="utf-8")
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
