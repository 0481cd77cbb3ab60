"""``mmeb data synth`` / ``mmeb data models``: local data and models in one command, no network.

``synth`` writes a synthetic mirror in the real layouts (the same writers the tests use): any model reads it
through ``mmeb run --data-dir``. ``models`` writes tiny random-weight models of the real architectures (real
config classes, processors and checkpoint formats), loadable with ``mmeb run --model DIR``. Scores on this data
say nothing about a model; the point is to try the whole path offline.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path
from typing import Callable


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="write synthetic data or tiny models for trying mmeb offline",
                              description="Write generated data in the real layouts (synth) or tiny "
                                          "random-weight models of the real architectures (models), to try "
                                          "every command offline.")
    sub = p.add_subparsers(dest="data_command", metavar="{synth,models}", required=True)

    synth = sub.add_parser(
        "synth", help="write a synthetic mirror in the real layouts",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Write generated data in the real layouts of a benchmark, then evaluate with `mmeb run "
                    "--data-dir OUT`. " + "; ".join(f"{b}: {what}" for b, (_, what) in SYNTH_BENCHMARKS.items()))
    synth.add_argument("--out", required=True, help="folder to write (created; existing files are replaced)")
    synth.add_argument("--benchmark", default="MMEB-V1", help=f"one of {', '.join(SYNTH_BENCHMARKS)}")
    synth.add_argument("--tasks", nargs="+", default=None, metavar="SELECTOR",
                       help="task names or groups within the benchmark (default: all its tasks)")
    synth.add_argument("--seed", type=int, default=0, help="same seed, same bytes")
    synth.add_argument("--queries", type=int, default=24, help="queries per task (MMEB-V1, MMEB-V2)")
    synth.set_defaults(func=run_synth)

    models = sub.add_parser(
        "models", help="write tiny random-weight models of the real architectures",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Write random-weight models (real architectures and processors, tiny sizes) as checkpoint "
                    "directories OUT/<preset>; evaluate one with `mmeb run --model OUT/<preset>`.")
    models.add_argument("--out", required=True, help="folder to write the model directories into")
    from mmeb.testing.models import PRESETS

    models.add_argument("--presets", nargs="+", default=None, metavar="PRESET",
                        help="which models (default: every tiny one: "
                             f"{', '.join(p for p in PRESETS if p.startswith('tiny-'))}); real-size presets "
                             f"({', '.join(p for p in PRESETS if not p.startswith('tiny-'))}) are large and must "
                             "be named")
    models.add_argument("--seed", type=int, default=0, help="weight initialisation seed")
    models.set_defaults(func=run_models)


@contextmanager
def _writing(out: str):
    """A folder that cannot be written (a file in the way, no permission, a full disk) is one line."""
    try:
        yield
    except OSError as exc:
        from mmeb.errors import MMEBError

        raise MMEBError(f"cannot write into --out {out}: {exc.strerror or exc} ({exc.filename or out}); pass "
                        "--out a folder you can write") from exc


def run_synth(args: argparse.Namespace) -> int:
    from mmeb.errors import suggest

    if args.benchmark not in SYNTH_BENCHMARKS:
        by_lower = {b.lower(): b for b in SYNTH_BENCHMARKS}
        if args.benchmark.lower() not in by_lower:
            raise suggest(args.benchmark, SYNTH_BENCHMARKS, "benchmark")
        args.benchmark = by_lower[args.benchmark.lower()]
    if args.queries < 1:
        from mmeb.cli import UserError

        raise UserError(f"--queries must be >= 1, got {args.queries}")
    writer = SYNTH_BENCHMARKS[args.benchmark][0]
    with _writing(args.out):
        data_dir, names = writer(Path(args.out), args.tasks, args.seed, args.queries)
    print(f"wrote {len(names)} {args.benchmark} task(s) to {data_dir}")
    if args.tasks is None:
        selection = "all" if args.benchmark == "MMEB-V1" else f"{args.benchmark}:all"
    else:
        selection = " ".join(t if args.benchmark == "MMEB-V1" or ":" in t else f"{args.benchmark}:{t}"
                             for t in args.tasks)
    print(f"evaluate a model on them: mmeb run --model MODEL --data-dir {data_dir} --tasks {selection}")
    return 0


def _synth_v1(out: Path, selectors, seed: int, n_queries: int) -> tuple[Path, list[str]]:
    from mmeb.tasks import get_tasks
    from mmeb.testing.mirror import write_mirror

    names = [t.name for t in get_tasks(selectors) if t.metadata.benchmark == "MMEB-V1"]
    if not names:
        from mmeb.cli import UserError

        raise UserError(f"--tasks {' '.join(selectors)} selects no MMEB-V1 task")
    return write_mirror(out, names, n_queries=n_queries, seed=seed), names


def _synth_v2(out: Path, selectors, seed: int, n_queries: int) -> tuple[Path, list[str]]:
    from mmeb.tasks import get_tasks
    from mmeb.testing.mirror_v2 import write_v2_mirror

    selectors = [s if ":" in s else f"MMEB-V2:{s}" for s in selectors] if selectors else ["MMEB-V2:all"]
    names = [t.name for t in get_tasks(selectors)]
    return write_v2_mirror(out, selectors, seed=seed, n_queries=n_queries), names


def _synth_demo(out: Path, selectors, seed: int, n_queries: int) -> tuple[Path, list[str]]:
    from mmeb.demo.benchmark import BenchmarkConfig, write_benchmark

    if selectors:
        from mmeb.cli import UserError

        raise UserError("--tasks does not apply to --benchmark synthetic: its 11 tasks are written together")
    manifest = write_benchmark(out, BenchmarkConfig(seed=seed))
    return out / manifest["eval_dir"], list(manifest["tasks"])


#: benchmark -> (writer(out, selectors, seed, n_queries) -> (data dir, task names), the layout it writes)
SYNTH_BENCHMARKS: dict[str, tuple[Callable[..., tuple[Path, list[str]]], str]] = {
    "MMEB-V1": (_synth_v1, "MMEB-eval layout (TIGER-Lab/MMEB-eval): <Task>/test-*.parquet + images.zip"),
    "MMEB-V2": (_synth_v2, "the MMEB-V2 repositories' layouts (image, video and visual-document tasks)"),
    "synthetic": (_synth_demo, "the demo's learnable benchmark: eval/ (MMEB-eval layout) + train/ "
                               "(MMEB-train layout)"),
}


def run_models(args: argparse.Namespace) -> int:
    from mmeb.errors import suggest
    from mmeb.evaluation.progress import quiet_third_party
    from mmeb.testing.models import PRESETS, build

    quiet_third_party()
    presets = args.presets or [p for p in PRESETS if p.startswith("tiny-")]
    for preset in presets:
        if preset not in PRESETS:
            raise suggest(preset, PRESETS, "model preset")
    out = Path(args.out)
    for preset in presets:
        with _writing(args.out):
            path = build(preset, out / preset, seed=args.seed)
        print(f"wrote {path}")
    print(f"evaluate one: mmeb run --model {out / presets[0]} --data-dir DATA --tasks all")
    return 0
