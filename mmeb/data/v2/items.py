"""The in-memory form of an MMEB-V2 task (the contract between V2 loading and the pool/corpus ranking).

A task is a deduplicated candidate **pool** (items, one per official candidate name: label string, video id,
clip folder, corpus id, image path) and **queries**. Each query ranks either its own list of pool entries
(``candidates``, local) or the whole pool (``candidates is None``, global), and carries its positives with
their grades (``relevance``: pool index -> grade > 0, in first-seen order; binary tasks use grade 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mmeb.data.items import ImageStore, Item


@dataclass(slots=True)
class RankedQuery:
    query: Item
    relevance: dict[int, float]  # pool index -> grade (> 0), in the official label order
    candidates: list[int] | None = None  # pool indices (local ranking), None = the whole pool
    row_index: int = 0  # row of the source file (error messages)
    label_ids: tuple = ()  # the official candidate names of the positives (for the official NDCG pairing)


@dataclass
class PoolTaskData:
    task_name: str
    queries: list[RankedQuery]
    pool: list[Item]
    images: ImageStore | None  # reads images, frames and corpus pages by the items' paths
    dataset_id: str
    revision: str
    source: str
    files: list[str] = field(default_factory=list)
    data_version: str = ""
    pool_names: list = field(default_factory=list)  # the official candidate name of each pool entry

    def __len__(self) -> int:
        return len(self.queries)

    @property
    def rows(self) -> list[RankedQuery]:  # the engine's generic "how many queries" view
        return self.queries
