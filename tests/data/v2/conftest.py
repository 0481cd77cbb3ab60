"""A synthetic MMEB-V2 mirror (a representative subset of the tasks), generated once per session."""

import pytest

from mmeb.testing.mirror_v2 import write_v2_mirror

SUBSET = ["ImageNet-1K", "OK-VQA", "VisDial", "CIRR", "WebQA", "RefCOCO-Matching",
          "K700", "SmthSmthV2", "MVBench", "Video-MME", "NExTQA", "EgoSchema", "ActivityNetQA", "DiDeMo", "MSVD",
          "QVHighlight", "Charades-STA", "MomentSeeker",
          "ViDoRe_arxivqa", "ViDoSeek-doc", "VisRAG_ChartQA"]


@pytest.fixture(scope="session")
def v2_mirror(tmp_path_factory):
    return write_v2_mirror(tmp_path_factory.mktemp("v2-mirror"), SUBSET)
