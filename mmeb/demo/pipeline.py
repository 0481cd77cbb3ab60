"""The demo's steps: generate data -> build models -> train -> evaluate three models -> leaderboard.

Every step writes its output atomically and checks for it first, so a rerun (or a run after an interruption)
does only what is missing: the data by its manifest, models by their files, the training run by its
checkpoint (and resumes from the halfway checkpoint), results by the engine's own skip-complete logic.

Layout of the demo directory (one seed per directory):
    data/        the synthetic benchmark (data/eval: MMEB-eval layout, data/train: MMEB-train layout) and
                 data/v2: a small MMEB-V2 mirror for one video and one document task (mmeb.demo.v2)
    models/      demo-qwen2vl-tiny-untrained, demo-qwen2vl-tiny-<N>steps (trained), demo-clip-tiny-random
    results/     one JSON per (model, task), as `mmeb run` writes them
    leaderboard/ leaderboard.md/.csv/.json and index.html, as `mmeb leaderboard` writes them
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmeb.demo import model as M
from mmeb.demo import tasks as T
from mmeb.demo import v2 as V2
from mmeb.demo.benchmark import BenchmarkConfig, write_benchmark
from mmeb.errors import ConfigError, MMEBError

STATE_FILE = "demo.json"


@dataclass(frozen=True)
class DemoConfig:
    out_dir: Path = Path("mmeb-demo")
    seed: int = 0
    steps: int = M.DEFAULT_STEPS
    n_train: int = T.N_TRAIN_ROWS  # rows per IND training subset
    eval_batch_size: int = 64
    num_workers: int = 0  # tiny models: worker start-up costs more than it saves on 2 cores
    # torch CPU threads. One is ~10x faster than two for these tiny models when the cores are shared
    # (measured: 20 training steps 11 s vs 108 s); it changes speed, not scores
    threads: int = 1
    progress: bool = True
    progress_interval: float | None = None  # seconds between progress lines in logs (None: the default)


@dataclass
class DemoOutcome:
    out_dir: Path
    results_dir: Path
    leaderboard_dir: Path
    page: Path
    board: Any  # mmeb.leaderboard.aggregate.BenchmarkBoard of the synthetic benchmark
    overview_markdown: str
    scores: dict[str, dict[str, float]]  # model -> task -> hit@1 (fraction)
    ood_means: dict[str, float]  # model -> mean hit@1 over the OOD tasks (fraction)
    seconds: dict[str, float] = field(default_factory=dict)  # step -> wall time
    #: MMEB-V2 video / document tasks on random synthetic data: model -> task -> main score (fraction)
    v2_scores: dict[str, dict[str, float]] = field(default_factory=dict)
    v2_failures: dict[str, dict[str, str]] = field(default_factory=dict)  # model -> task -> why it failed

    @property
    def ood_gain_points(self) -> float:
        """Trained minus untrained, mean hit@1 over the OOD tasks, in points (the demo's success measure)."""
        trained = next(m for m in self.ood_means if m not in (M.UNTRAINED, M.TWO_TOWER))
        return 100 * (self.ood_means[trained] - self.ood_means[M.UNTRAINED])


def trained_name(steps: int) -> str:
    return f"demo-qwen2vl-tiny-{steps}steps"


def _claim_directory(config: DemoConfig) -> None:
    """One seed per directory: results of two seeds under one name would mix two different benchmarks."""
    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    state = out / STATE_FILE
    if state.is_file():
        previous = json.loads(state.read_text(encoding="utf-8"))
        if previous.get("seed") != config.seed:
            raise ConfigError(f"{out} holds the demo for seed {previous.get('seed')}, not {config.seed}: "
                              f"use another --out directory (or delete {out}) to run another seed")
    else:
        state.write_text(json.dumps({"seed": config.seed}) + "\n", encoding="utf-8")


class Demo:
    def __init__(self, config: DemoConfig, console=None):
        from rich.console import Console

        self.config = config
        self.console = console or Console(stderr=True)
        self.out = Path(config.out_dir)
        self.data_dir = self.out / "data"
        self.models_dir = self.out / "models"
        self.results_dir = self.out / "results"
        self.leaderboard_dir = self.out / "leaderboard"
        self.seconds: dict[str, float] = {}
        self.manifest: dict[str, Any] = {}
        self.v2_failures: dict[str, dict[str, str]] = {}

    @contextmanager
    def _step(self, title: str):
        from mmeb.evaluation.progress import LineProgress, active_progress

        self.console.rule(f"[bold]{title}")
        if isinstance(active_progress(), LineProgress):  # logs: the step also names the "still ..." heartbeat
            active_progress().note(f"demo step {title}")
        started = time.perf_counter()
        yield
        self.seconds[title] = round(time.perf_counter() - started, 1)
        self.console.print(f"[dim]{title}: {self.seconds[title]:.1f} s")

    # ------------------------------------------------------------------ steps

    def generate(self) -> dict[str, Any]:
        with self._step("1/5 data"):
            bench = BenchmarkConfig(seed=self.config.seed, n_train=self.config.n_train)
            self.manifest = write_benchmark(self.data_dir, bench, progress=self.config.progress)
            self.console.print(f"{len(self.manifest['tasks'])} tasks ({len(T.IND_TASKS)} IND with training "
                               f"data, {len(T.OOD_TASKS)} OOD) in {self.data_dir}; held-out combinations: "
                               + ", ".join(" ".join(c) for c in self.manifest["held_out_combinations"]))
            V2.write_v2_data(self.data_dir / "v2", self.config.seed)
            self.console.print(f"MMEB-V2 video and document tasks ({', '.join(V2.V2_TASKS)}; {V2.V2_QUERIES} "
                               f"queries each, random content) in {self.data_dir / 'v2'}")
        return self.manifest

    def build_models(self) -> tuple[Path, Path]:
        with self._step("2/5 models"):
            vocab, seed = self.manifest["vocabulary"], self.config.seed
            untrained = M.build_reference(self.models_dir / M.UNTRAINED, vocab, seed)
            two_tower = M.build_two_tower(self.models_dir / M.TWO_TOWER, vocab, seed)
        return untrained, two_tower

    def train(self, base: Path) -> Path:
        steps = self.config.steps
        out = self.models_dir / trained_name(steps)
        with self._step(f"3/5 train ({steps} steps)"):
            cfg = M.train_config(base=base, train_data=self.data_dir / self.manifest["train_dir"],
                                 subsets=list(self.manifest["train_subsets"]), output_dir=out, steps=steps,
                                 seed=self.config.seed)
            if M.is_trained(out, cfg):
                self.console.print(f"reusing {out}")
                return out
            if (out / "mmeb_model.json").is_file():  # finished with another recipe: its checkpoints would resume
                import shutil

                self.console.print(f"{out} was trained with another recipe: training again")
                shutil.rmtree(out)
            return M.train_reference(cfg, progress=self.config.progress)

    def evaluate(self, models: list[Path]) -> None:
        from mmeb.evaluation import RunSettings, run_evaluation

        with self._step("4/5 evaluate"):
            for path in models:
                self.console.print(f"[bold]{path.name}")
                settings = RunSettings(data_dir=str(self.data_dir / self.manifest["eval_dir"]),
                                       output_dir=str(self.results_dir), batch_size=self.config.eval_batch_size,
                                       num_workers=self.config.num_workers, device="cpu",
                                       progress=self.config.progress,
                                       progress_interval=self.config.progress_interval)
                report = run_evaluation(str(path), list(T.TASK_NAMES), settings)
                if report.failures:
                    raise MMEBError(f"evaluating {path.name} failed on "
                                      + "; ".join(f"{t}: {e}" for t, e in report.failures.items()))
                v2_settings = RunSettings(data_dir=str(self.data_dir / "v2"), output_dir=str(self.results_dir),
                                          batch_size=self.config.eval_batch_size,
                                          num_workers=self.config.num_workers, device="cpu",
                                          progress=self.config.progress)
                v2_report = run_evaluation(str(path), V2.v2_selectors(), v2_settings)
                # a model that cannot take video or page input is shown as such; the demo goes on
                self.v2_failures[path.name] = dict(v2_report.failures)

    def leaderboard(self):
        from mmeb.leaderboard import build_leaderboard

        with self._step("5/5 leaderboard"):
            # the demo's own benchmark only: the published MMEB rows would not be comparable; the MMEB-V2 tasks
            # run on a small synthetic sample, so their rows are unofficial
            return build_leaderboard(self.results_dir, self.leaderboard_dir, published=False,
                                     include_unofficial=True)

    # ------------------------------------------------------------------ all

    def run(self) -> DemoOutcome:
        import torch

        from mmeb.evaluation.progress import make_progress, progress_mode

        torch.set_num_threads(self.config.threads)
        _claim_directory(self.config)
        started = time.perf_counter()
        # in logs one line display spans every step (a terminal gets each step's own bars)
        with make_progress(progress_mode(self.config.progress) == "lines", self.config.progress_interval):
            self.generate()
            untrained, two_tower = self.build_models()
            trained = self.train(untrained)
            self.evaluate([trained, untrained, two_tower])
            board = self.leaderboard()
        self.seconds["total"] = round(time.perf_counter() - started, 1)
        return self._outcome(board, [trained.name, untrained.name, two_tower.name])

    def _outcome(self, board, model_names: list[str]) -> DemoOutcome:
        from mmeb.leaderboard.render_md import render_markdown

        synthetic = board.board(T.BENCHMARK)
        rows = {r.name: r for r in synthetic.rows if r.name in model_names}
        scores = {name: {t: s.value / 100 for t, s in rows[name].tasks.items()} for name in rows}
        ood = {name: sum(scores[name][t] for t in T.OOD_TASKS) / len(T.OOD_TASKS) for name in rows}
        v2_scores: dict[str, dict[str, float]] = {}
        if any(b.benchmark == V2.V2_BENCHMARK for b in board.boards):
            for row in board.board(V2.V2_BENCHMARK).rows:
                if row.name in model_names:
                    v2_scores.setdefault(row.name, {}).update({t: s.value / 100 for t, s in row.tasks.items()})
        return DemoOutcome(
            out_dir=self.out, results_dir=self.results_dir, leaderboard_dir=self.leaderboard_dir,
            page=self.leaderboard_dir / "index.html", board=synthetic, overview_markdown=render_markdown([synthetic]),
            scores=scores, ood_means=ood, seconds=dict(self.seconds), v2_scores=v2_scores,
            v2_failures={m: f for m, f in self.v2_failures.items() if f})


def run_demo(config: DemoConfig = DemoConfig(), console=None) -> DemoOutcome:
    return Demo(config, console).run()

