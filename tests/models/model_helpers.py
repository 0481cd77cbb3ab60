"""Shared helpers for the model-adapter tests (unique module name: tests/ has no packages)."""

from PIL import Image


def image(w=40, h=30, color="red"):
    return Image.new("RGB", (w, h), color)
