"""Declarative task definitions: a task is metadata plus (rarely) a hook; the one loader and the one
evaluation engine do the work. Unknown metadata fields are rejected at import time."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from mmeb.tasks.metadata import (MMEB_EVAL_ID, MMEB_EVAL_REVISION, VLM2VEC_REFERENCE, MetaTask, Modality, Split,
                                 TaskMetadata)

if TYPE_CHECKING:  # pragma: no cover
    from mmeb.data.items import TaskData

__all__ = ["MMEB_EVAL_ID", "MMEB_EVAL_REVISION", "VLM2VEC_REFERENCE", "MetaTask", "Modality", "Split", "Task",
           "TaskMetadata"]


class Task:
    """Base class of every task. Subclasses only declare ``metadata``."""

    metadata: ClassVar[TaskMetadata]

    @property
    def name(self) -> str:
        return self.metadata.name

    def load(self, data_dir: str | None = None, **kwargs) -> "TaskData":
        """Load the test split: from ``data_dir`` (a local mirror in the Hub layout), else from the
        Hub at ``metadata.dataset_revision`` via the user cache. See :mod:`mmeb.data.loader`."""
        from mmeb.data.loader import load_task_data

        return load_task_data(self.metadata, data_dir=data_dir, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.metadata.name} ({self.metadata.meta_task}, {self.metadata.split})>"
