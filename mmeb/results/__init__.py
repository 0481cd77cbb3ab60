"""Result files: the schema (one JSON per model x task), atomic writing, and where files live."""

from mmeb.results.schema import SCHEMA_VERSION, TaskResult

__all__ = ["SCHEMA_VERSION", "TaskResult"]
