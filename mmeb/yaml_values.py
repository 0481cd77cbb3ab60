"""Command-line values parsed as YAML (``--set key=value`` in ``mmeb train``, model arguments): plain
data only. A value that is not valid YAML, or that carries a YAML tag (``!!python/object``, ``!!binary``,
``!custom``), is refused in one line - a tag asks the parser to build an object, never what a setting means."""

from __future__ import annotations

from typing import Any

from mmeb.errors import ConfigError


def parse_value(text: str, what: str) -> Any:
    """``text`` as a YAML scalar, list or mapping; ``what`` names the option in the error (``--set lr``)."""
    import yaml

    try:
        tagged = [token for token in yaml.scan(text) if isinstance(token, yaml.TagToken)]
        if tagged:
            raise ConfigError(f"{what}: the value {text!r} carries a YAML tag ({tagged[0].value[1] or '!'}); "
                              "give a plain value (number, string, true/false, [list], {mapping})")
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise ConfigError(f"{what}: the value {text!r} is not valid YAML ({problem}); quote strings that "
                          "contain ':', '#', '[' or '{'") from None
