"""Where neural models run: CUDA when present (half precision where safe), else the CPU in fp32."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def resolve_device(spec: str) -> torch.device:
    """``"auto"`` → the first CUDA device when torch sees one, else the CPU; ``"cpu"``/``"cuda[:N]"`` as given."""
    import torch

    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda" and not torch.cuda.is_available():
        from engine.errors import ModelError

        raise ModelError(f"[models] device = {spec!r}, but torch sees no CUDA device here; use \"auto\" or \"cpu\".")
    return device


def model_dtype(device: torch.device, *, half: bool = True, prefer_bfloat16: bool = False) -> torch.dtype:
    """fp32 on the CPU; on CUDA fp16 (``half``), or bf16 for models trained in it when the GPU has it."""
    import torch

    if device.type != "cuda" or not half:
        return torch.float32
    if prefer_bfloat16 and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16
