"""Published MMEB-V2 reference rows: the VLM2Vec authors' official per-task score files, one row per model
and benchmark version, turned into result files (``published.version`` = the official folder name).

Source: GitHub TIGER-AI-Lab/VLM2Vec ``experiments/public/all_scores/<version>/<model>.json`` (commit
``6e1e1d4``); ``v2.0.0`` is the paper's benchmark (VLM2Vec-V2, arXiv 2507.04590, appendix Table 5 equals
those files up to rounding). Regenerate from a machine-readable transcription of those files
(``published_scores.json``: model -> version -> task -> main score and num_data, plus each task's Hub
source in ``tasks.json``)::

    python -m mmeb.leaderboard.published --write mmeb/leaderboard/published/rows \\
        --v2-scores published_scores.json --v2-tasks tasks.json

Figures are stored exactly as the files give them (fractions, unrounded). The files' report dates carry
no time zone; they are read as UTC. ``MomentSeeker_1k8`` (an extra key of v2.0.1, not one of the 78) is
not shipped; the ``v2.1-baselines-visdoc-page-fixed`` files lack ViDoSeek-doc and MMLongBench-doc, so
those rows are partial (76 of 78) and get no Overall or VisDoc mean.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

BENCHMARK = "MMEB-V2"
VERSIONS = ("v2.0.0", "v2.0.1", "v2.1-baselines-visdoc-page-fixed")
MAIN_METRIC = {"image": "hit@1", "video": "hit@1", "visdoc": "ndcg_linear@5"}
SCORES_COMMIT = "6e1e1d42d4cba85ae4db4d3f7a25cba2465d1e16"
SCORES_URL = f"https://github.com/TIGER-AI-Lab/VLM2Vec/tree/{SCORES_COMMIT}/experiments/public/all_scores"
V2_CITATION = ("Meng et al., VLM2Vec-V2: Advancing Multimodal Embedding for Videos, Images, and Visual "
               "Documents (arXiv 2507.04590)")
# The official V2 scorer ranks with numpy argsort: the order of exact ties is unspecified. "v1" (ties go
# to the positive) is the nearest rule the schema records.
TIE_NOTE = "scored by the official V2 code (argsort: tie order unspecified); recorded as tie rule v1"
VERSION_NOTES = {
    "v2.0.0": "the paper's benchmark (MomentSeeker 1,800 queries); equals the paper's appendix Table 5",
    "v2.0.1": "full re-run; MomentSeeker de-duplicated to 1,602 queries",
    "v2.1-baselines-visdoc-page-fixed": "v2.0.1 with ViDoSeek-page and MMLongBench-page re-run on the fixed "
                                        "page labels; ViDoSeek-doc and MMLongBench-doc absent from these files",
}


def _utc(text: str) -> datetime:
    date = datetime.fromisoformat(text)
    return date.replace(tzinfo=timezone.utc) if date.tzinfo is None else date.astimezone(timezone.utc)


def _repo_of(hub: dict, version: str) -> str:
    """The annotation repo a version's figures were computed on: MomentSeeker v2.0.0 read the 1,800-query
    ``MomentSeeker_1k8``; the page tasks of v2.0.0 / v2.0.1 read the repos before the fix (spec section 8)."""
    if version == "v2.0.0" and hub.get("v2_0_0_repo"):
        return hub["v2_0_0_repo"].split()[0]
    if version in ("v2.0.0", "v2.0.1") and hub.get("repo_before_2025_11_03"):
        return hub["repo_before_2025_11_03"]
    return hub["repo"]


def build_v2_records(scores: dict, tasks: dict) -> dict[tuple[str, str], dict[str, object]]:
    """(version, model) -> {file name: TaskResult} from the two transcriptions (parsed JSON)."""
    from mmeb.results.schema import MAIN_METRIC_FIELDS, DatasetInfo, ModelInfo, Published, Scores, TaskResult

    hub = {t["name"]: t["hf"] for t in tasks["tasks"]}
    task_facts = {t["name"]: {"modality": t["modality"], "group": t["group"], "meta_task": t.get("meta_task"),
                         "split": t.get("v1_split")} for t in tasks["tasks"]}
    out: dict[tuple[str, str], dict[str, object]] = {}
    for model, entry in scores["models"].items():
        size = re.search(r"\((\d+(?:\.\d+)?)B\)", entry["paper_row"])  # the paper names carry the size: "GME (2B)"
        facts = {"hub_id": entry["hub_id"], "paper_name": entry["paper_row"],
                 **({"size_b": float(size.group(1))} if size else {})}
        info = ModelInfo(name=model, metadata=facts)
        for version in VERSIONS:
            run = entry["scores"][version]
            published = Published(
                source=f"VLM2Vec authors' score file all_scores/{version}/{entry['official_file_name']}",
                citation=V2_CITATION, url=f"{SCORES_URL}/{version}", version=version,
                note=f"{VERSION_NOTES[version]}; {TIE_NOTE}")
            records = {}
            for task, value in run["tasks"].items():
                if task not in hub:
                    continue  # MomentSeeker_1k8: reported beside the 78, not one of them
                metric = MAIN_METRIC[value["modality"]]
                source = hub[task]
                repo = _repo_of(source, version)
                records[f"{task}.json"] = TaskResult(
                    task_name=task, benchmark=BENCHMARK, **task_facts[task], main_metric=metric, main_score=value["main"],
                    n_queries=value["num_data"], scores=Scores(**{MAIN_METRIC_FIELDS[metric]: value["main"]}),
                    tie_rule="v1", model=info, date=_utc(run["report_generated_date"]), published=published,
                    dataset=DatasetInfo(id=repo, revision="unrecorded", subset=source.get("config") or task,
                                        source="published"))
            out[(version, model)] = records
    return out


def write_v2(out_dir: str | Path, scores_file: str | Path, tasks_file: str | Path) -> list[Path]:
    """Write ``out_dir/<version>/<model>/<Task>.json`` for every published V2 row. Returns the files."""
    scores = json.loads(Path(scores_file).read_text(encoding="utf-8"))
    tasks = json.loads(Path(tasks_file).read_text(encoding="utf-8"))
    written = []
    for (version, model), records in build_v2_records(scores, tasks).items():
        folder = Path(out_dir) / version / model
        folder.mkdir(parents=True, exist_ok=True)
        for filename, record in records.items():
            path = folder / filename
            path.write_text(json.dumps(record.model_dump(mode="json", exclude_none=True), indent=2) + "\n",
                            encoding="utf-8")
            written.append(path)
    return written
