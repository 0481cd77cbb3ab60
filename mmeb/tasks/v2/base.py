"""The base class of the MMEB-V2 tasks: metadata only; loading is :mod:`mmeb.data.v2`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from mmeb.tasks.base import Task
from mmeb.tasks.v2.metadata import V2TaskMetadata

if TYPE_CHECKING:  # pragma: no cover
    from mmeb.data.v2.items import PoolTaskData


class V2Task(Task):
    metadata: ClassVar[V2TaskMetadata]

    def load(self, data_dir: str | None = None, **kwargs) -> "PoolTaskData":
        """Load the task: from ``data_dir`` (a local mirror: ``<org>/<name>/`` repo snapshots and the media
        repo under ``TIGER-Lab/MMEB-V2/``), else from the Hub. See :mod:`mmeb.data.v2.load`."""
        from mmeb.data.v2.load import load_v2_task

        return load_v2_task(self.metadata, data_dir=data_dir, **kwargs)

    def __repr__(self) -> str:
        m = self.metadata
        return f"<{type(self).__name__} {m.benchmark}:{m.name} ({m.modality}, {m.group})>"
