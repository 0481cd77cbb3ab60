"""The 24 MMEB-V2 visual-document retrieval tasks: a text query against the task's whole page corpus, judged by
qrels (BEIR layout: ``queries`` / ``corpus`` / ``qrels`` configs), NDCG@5 with linear gains. ViDoRe v1 (VDRv1),
ViDoRe v2 (VDRv2, every language), VisRAG (VR) and the out-of-domain ViDoSeek / MMLongBench (OOD)."""

from __future__ import annotations

from mmeb.tasks import register_task
from mmeb.tasks.v2.base import V2Task
from mmeb.tasks.v2.metadata import V2TaskMetadata

QUERY_INSTRUCTION = "Find a document image that matches the given query:"
PAGE_TARGET = "Understand the content of the provided document image."

#: name -> (group, repo, #queries, corpus size or None, parser, relevance, extra)
VISDOC_TASKS: dict[str, tuple] = {
    "ViDoRe_arxivqa": ("VDRv1", "vidore/arxivqa_test_subsampled_beir", 500, 500),
    "ViDoRe_docvqa": ("VDRv1", "vidore/docvqa_test_subsampled_beir", 451, 500),
    "ViDoRe_infovqa": ("VDRv1", "vidore/infovqa_test_subsampled_beir", 494, 500),
    "ViDoRe_tabfquad": ("VDRv1", "vidore/tabfquad_test_subsampled_beir", 280, 70),
    "ViDoRe_tatdqa": ("VDRv1", "vidore/tatdqa_test_beir", 1646, 277),
    "ViDoRe_shiftproject": ("VDRv1", "vidore/shiftproject_test_beir", 100, 1000),
    "ViDoRe_syntheticDocQA_artificial_intelligence": (
        "VDRv1", "vidore/syntheticDocQA_artificial_intelligence_test_beir", 100, 968),
    "ViDoRe_syntheticDocQA_energy": ("VDRv1", "vidore/syntheticDocQA_energy_test_beir", 100, None),
    "ViDoRe_syntheticDocQA_government_reports": (
        "VDRv1", "vidore/syntheticDocQA_government_reports_test_beir", 100, None),
    "ViDoRe_syntheticDocQA_healthcare_industry": (
        "VDRv1", "vidore/syntheticDocQA_healthcare_industry_test_beir", 100, None),
    "ViDoRe_esg_reports_human_labeled_v2": ("VDRv2", "vidore/esg_reports_human_labeled_v2", 52, None,
                                            dict(relevance="graded")),
    "ViDoRe_biomedical_lectures_v2_multilingual": ("VDRv2", "vidore/biomedical_lectures_v2", 640, None),
    "ViDoRe_economics_reports_v2_multilingual": ("VDRv2", "vidore/economics_reports_v2", 232, None),
    "ViDoRe_esg_reports_v2_multilingual": ("VDRv2", "vidore/esg_reports_v2", 228, None),
    "VisRAG_ArxivQA": ("VR", "openbmb/VisRAG-Ret-Test-ArxivQA", 816, 8066),
    "VisRAG_ChartQA": ("VR", "openbmb/VisRAG-Ret-Test-ChartQA", 63, 500),
    "VisRAG_MP-DocVQA": ("VR", "openbmb/VisRAG-Ret-Test-MP-DocVQA", 591, 741),
    "VisRAG_SlideVQA": ("VR", "openbmb/VisRAG-Ret-Test-SlideVQA", 556, 1284),
    "VisRAG_InfoVQA": ("VR", "openbmb/VisRAG-Ret-Test-InfoVQA", 718, 459),
    "VisRAG_PlotQA": ("VR", "openbmb/VisRAG-Ret-Test-PlotQA", 863, 9590),
    "ViDoSeek-page": ("OOD", "VLM2Vec/ViDoSeek-page-fixed", 1142, 5349,
                      dict(version_repos={"v2.0.0": "VLM2Vec/ViDoSeek-page", "v2.0.1": "VLM2Vec/ViDoSeek-page"})),
    "ViDoSeek-doc": ("OOD", "VLM2Vec/ViDoSeek", 1142, 5349, dict(relevance="graded")),
    "MMLongBench-page": ("OOD", "VLM2Vec/MMLongBench-page-fixed", 838, 6492,
                         dict(version_repos={"v2.0.0": "VLM2Vec/MMLongBench", "v2.0.1": "VLM2Vec/MMLongBench"})),
    "MMLongBench-doc": ("OOD", "VLM2Vec/MMLongBench-doc", 838, 6492, dict(relevance="graded")),
}


def _declare(name: str, group: str, repo: str, n_queries: int, corpus: int | None, extra: dict | None = None):
    visrag = name.startswith("VisRAG")
    fields = {"relevance": "binary", **(extra or {})}
    meta = V2TaskMetadata(
        name=name, modality="visdoc", group=group, meta_task="visdoc_retrieval",
        parser="visrag" if visrag else "vidore", ranking="global", main_metric="ndcg_linear@5",
        query_modality="text", target_modality="document page image", query_instruction=QUERY_INSTRUCTION,
        target_instruction=PAGE_TARGET, n_queries=n_queries, n_candidates=corpus, dataset_id=repo,
        dataset_split="train" if visrag else "test",
        description=f"{name}: a question against the {corpus or 'whole'}-page corpus of {repo} "
                    f"({fields['relevance']} qrels).", **fields)
    cls_name = "V2_" + "".join(ch if ch.isalnum() else "_" for ch in name)
    return register_task(type(cls_name, (V2Task,), {"metadata": meta, "__module__": __name__}))


for _name, (_group, _repo, _n, _corpus, *_extra) in VISDOC_TASKS.items():
    globals()["V2_" + "".join(ch if ch.isalnum() else "_" for ch in _name)] = _declare(
        _name, _group, _repo, _n, _corpus, *_extra)
