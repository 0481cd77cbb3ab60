"""MMEB-V2: 78 tasks in three modalities - image (the 36 MMEB-V1 tasks in their V2 form), video (18) and
visual documents (24) - under the benchmark name ``MMEB-V2``. Order, modalities and sub-categories as in the
official ``experiments/report_score_v2.py`` and the VLM2Vec-V2 paper (Table 2): :mod:`mmeb.tasks.v2.names`."""

from __future__ import annotations

from mmeb.tasks.v2 import image, video, visdoc  # noqa: F401  (registers the tasks)
from mmeb.tasks.v2.metadata import DATA_VERSIONS, DEFAULT_DATA_VERSION, V2TaskMetadata
from mmeb.tasks.v2.names import (BENCHMARK, GROUP_ALIASES, MODALITY_GROUPS, V2_GROUPS, V2_TASK_NAMES, select,
                                 selector_names)

__all__ = ["BENCHMARK", "DATA_VERSIONS", "DEFAULT_DATA_VERSION", "GROUP_ALIASES", "MODALITY_GROUPS",
           "V2TaskMetadata", "V2_GROUPS", "V2_TASK_NAMES", "select", "selector_names"]
