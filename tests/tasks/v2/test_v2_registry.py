"""The 78 MMEB-V2 tasks: names (the official keys), order, modalities, sub-categories, main metrics, selectors."""

import json
import subprocess
import sys

import pytest

from mmeb.errors import UnknownNameError
from mmeb.tasks import TASK_NAMES, get_task, get_tasks

VIDEO = ["K700", "SmthSmthV2", "HMDB51", "UCF101", "Breakfast", "MVBench", "Video-MME", "NExTQA", "EgoSchema",
         "ActivityNetQA", "DiDeMo", "MSR-VTT", "MSVD", "VATEX", "YouCook2", "QVHighlight", "Charades-STA",
         "MomentSeeker"]
VISDOC = ["ViDoRe_arxivqa", "ViDoRe_docvqa", "ViDoRe_infovqa", "ViDoRe_tabfquad", "ViDoRe_tatdqa",
          "ViDoRe_shiftproject", "ViDoRe_syntheticDocQA_artificial_intelligence", "ViDoRe_syntheticDocQA_energy",
          "ViDoRe_syntheticDocQA_government_reports", "ViDoRe_syntheticDocQA_healthcare_industry",
          "ViDoRe_esg_reports_human_labeled_v2", "ViDoRe_biomedical_lectures_v2_multilingual",
          "ViDoRe_economics_reports_v2_multilingual", "ViDoRe_esg_reports_v2_multilingual", "VisRAG_ArxivQA",
          "VisRAG_ChartQA", "VisRAG_MP-DocVQA", "VisRAG_SlideVQA", "VisRAG_InfoVQA", "VisRAG_PlotQA",
          "ViDoSeek-page", "ViDoSeek-doc", "MMLongBench-page", "MMLongBench-doc"]
GROUP_SIZES = {"I-CLS": 10, "I-QA": 10, "I-RET": 12, "I-GD": 4, "V-CLS": 5, "V-QA": 5, "V-RET": 5, "V-MRET": 3,
               "VDRv1": 10, "VDRv2": 4, "VR": 6, "OOD": 4}


def test_78_tasks_in_the_official_order():
    tasks = get_tasks("MMEB-V2:all")
    assert [t.name for t in tasks] == list(TASK_NAMES) + VIDEO + VISDOC
    assert all(t.metadata.benchmark == "MMEB-V2" for t in tasks)
    modalities = [t.metadata.modality for t in tasks]
    assert modalities == ["image"] * 36 + ["video"] * 18 + ["visdoc"] * 24
    assert {t.metadata.main_metric for t in tasks[:54]} == {"hit@1"}
    assert {t.metadata.main_metric for t in tasks[54:]} == {"ndcg_linear@5"}
    sizes = {}
    for t in tasks:
        sizes[t.metadata.group] = sizes.get(t.metadata.group, 0) + 1
    assert sizes == GROUP_SIZES


def test_mmeb_v1_stays_as_it_is():
    assert [t.name for t in get_tasks("all")] == list(TASK_NAMES)
    assert get_task("ImageNet-1K").metadata.benchmark == "MMEB-V1"
    assert get_task("MMEB-V2:ImageNet-1K").metadata.benchmark == "MMEB-V2"
    assert get_task("MMEB-V2:ImageNet-1K").metadata.dataset_id == "ziyjiang/MMEB_Test_Instruct"
    assert get_task("K700").metadata.benchmark == "MMEB-V2"  # a name only V2 has


@pytest.mark.parametrize("selector, expected", [
    ("MMEB-V2:image", 36), ("MMEB-V2:video", 18), ("MMEB-V2:visdoc", 24), ("MMEB-V2:video-ret", 5),
    ("MMEB-V2:V-RET", 5), ("MMEB-V2:visdoc-vdr1", 10), ("MMEB-V2:visdoc-vdr2", 4), ("MMEB-V2:visdoc-vr", 6),
    ("MMEB-V2:visdoc-ood", 4), ("MMEB-V2:video-mret", 3), ("MMEB-V2:image-gd", 4), ("MMEB-V2:momentseeker", 1),
    ("MMEB-V2:K700 MMEB-V2:video-cls", 5),
])
def test_selectors(selector, expected):
    assert len(get_tasks(selector)) == expected


def test_unknown_v2_selector_suggests():
    with pytest.raises(UnknownNameError, match="video-ret"):
        get_tasks("MMEB-V2:video-rett")


def test_ranking_modes_and_sources():
    meta = {t.name: t.metadata for t in get_tasks("MMEB-V2:all")}
    assert {n for n, m in meta.items() if m.modality == "video" and m.ranking == "global"} == {
        "K700", "HMDB51", "UCF101", "Breakfast", "DiDeMo", "MSR-VTT", "MSVD", "VATEX", "YouCook2"}
    assert all(meta[n].ranking == "global" for n in VISDOC)
    assert meta["YouCook2"].dataset_id == "lmms-lab/YouCook2" and meta["YouCook2"].dataset_split == "val"
    assert meta["MomentSeeker"].n_queries == 1602
    assert meta["MomentSeeker"].repo_for("v2.0.0") == "VLM2Vec/MomentSeeker_1k8"
    assert meta["ViDoSeek-page"].dataset_id == "VLM2Vec/ViDoSeek-page-fixed"
    assert meta["ViDoSeek-page"].repo_for("v2.0.1") == "VLM2Vec/ViDoSeek-page"
    assert meta["Breakfast"].query_instruction.endswith("video. ")  # the trailing space is part of it
    assert {n for n, m in meta.items() if m.relevance == "graded"} == {
        "ViDoRe_esg_reports_human_labeled_v2", "ViDoSeek-doc", "MMLongBench-doc"}


def test_cli_lists_78_entries_as_json():
    out = subprocess.run([sys.executable, "-m", "mmeb", "tasks", "MMEB-V2:all", "--json"], capture_output=True,
                         text=True, check=True).stdout
    entries = json.loads(out)
    assert len(entries) == 78
    for entry in entries:
        assert entry["benchmark"] == "MMEB-V2"
        assert entry["modality"] in ("image", "video", "visdoc")
        assert entry["group"] in GROUP_SIZES
        assert entry["main_metric"] == ("ndcg_linear@5" if entry["modality"] == "visdoc" else "hit@1")
    assert [e["name"] for e in entries][36:] == VIDEO + VISDOC
