"""Synthetic meter photos with exact labels, rendered by the project (no third-party data):
drum counters and seven-segment LCDs on meter faces, photographed badly on purpose."""
from .meters import MeterLabel, RenderConfig, encode_jpeg, render_dataset, render_meter

__all__ = ["MeterLabel", "RenderConfig", "encode_jpeg", "render_dataset", "render_meter"]
