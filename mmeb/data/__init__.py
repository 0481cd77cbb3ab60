"""Task data: the in-memory form of one MMEB test split, and how it is read from disk or the Hub."""

from mmeb.data.items import ImageStore, Item, QueryRow, TaskData

__all__ = ["ImageStore", "Item", "QueryRow", "TaskData"]
