"""The Wav2Lip generator (Prajwal et al., 2020) in our own torch code, and its checkpoint loader.

Layer shapes and state-dict names follow the published network, so the official weights load
as they are: a face encoder (6×96×96 → 512×1×1 in seven stages, each kept for a skip), an audio
encoder (one 1×80×16 mel window → 512×1×1) and a decoder that grows the audio embedding back to
96×96, concatenating the face encoder's stage of the same size at each step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.errors import ModelError

SETTING = "lipsync"
WIDTH = 16  # channels of the published network's first layer
FIRST = "face_encoder_blocks.0.0.conv_block.0.weight"


class ConvBlock(nn.Module):
    """Convolution, batch norm, ReLU; ``residual`` adds the input back before the ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int | tuple[int, int], padding: int,
                 residual: bool = False, transpose: bool = False, output_padding: int = 0) -> None:
        super().__init__()
        conv: nn.Module = (nn.ConvTranspose2d(cin, cout, kernel, stride, padding, output_padding) if transpose
                           else nn.Conv2d(cin, cout, kernel, stride, padding))
        self.conv_block = nn.Sequential(conv, nn.BatchNorm2d(cout))
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        return torch.relu(out + x if self.residual else out)


def _stage(cin: int, cout: int, stride: int | tuple[int, int], residuals: int, kernel: int = 3,
           padding: int = 1) -> list[ConvBlock]:
    """One convolution that changes size or channels, then ``residuals`` residual 3×3 blocks."""
    return [ConvBlock(cin, cout, kernel, stride, padding),
            *(ConvBlock(cout, cout, 3, 1, 1, residual=True) for _ in range(residuals))]


def _up(cin: int, cout: int, residuals: int) -> nn.Sequential:
    """A 2× transposed convolution, then residual blocks: one decoder stage."""
    return nn.Sequential(ConvBlock(cin, cout, 3, 2, 1, transpose=True, output_padding=1),
                         *(ConvBlock(cout, cout, 3, 1, 1, residual=True) for _ in range(residuals)))


class Wav2Lip(nn.Module):
    """``width`` is the first layer's channels (16 in the published network); every layer scales with it,
    so a narrower copy (tests, benchmarks of the plumbing) has the same layers and names."""

    def __init__(self, width: int = WIDTH) -> None:
        super().__init__()

        def c(channels: int) -> int:
            return channels * width // WIDTH

        self.face_encoder_blocks = nn.ModuleList([
            nn.Sequential(ConvBlock(6, c(16), 7, 1, 3)),  # 96×96
            nn.Sequential(*_stage(c(16), c(32), 2, 2)),  # 48×48
            nn.Sequential(*_stage(c(32), c(64), 2, 3)),  # 24×24
            nn.Sequential(*_stage(c(64), c(128), 2, 2)),  # 12×12
            nn.Sequential(*_stage(c(128), c(256), 2, 2)),  # 6×6
            nn.Sequential(*_stage(c(256), c(512), 2, 1)),  # 3×3
            nn.Sequential(ConvBlock(c(512), c(512), 3, 1, 0), ConvBlock(c(512), c(512), 1, 1, 0)),  # 1×1
        ])
        self.audio_encoder = nn.Sequential(
            *_stage(1, c(32), 1, 2),
            *_stage(c(32), c(64), (3, 1), 2),
            *_stage(c(64), c(128), 3, 2),
            *_stage(c(128), c(256), (3, 2), 1),
            ConvBlock(c(256), c(512), 3, 1, 0),
            ConvBlock(c(512), c(512), 1, 1, 0),
        )
        self.face_decoder_blocks = nn.ModuleList([
            nn.Sequential(ConvBlock(c(512), c(512), 1, 1, 0)),  # 1×1
            nn.Sequential(ConvBlock(c(1024), c(512), 3, 1, 0, transpose=True),
                          ConvBlock(c(512), c(512), 3, 1, 1, residual=True)),  # 3×3
            _up(c(1024), c(512), 2),  # 6×6
            _up(c(768), c(384), 2),  # 12×12
            _up(c(512), c(256), 2),  # 24×24
            _up(c(320), c(128), 2),  # 48×48
            _up(c(160), c(64), 2),  # 96×96
        ])
        self.output_block = nn.Sequential(ConvBlock(c(80), c(32), 3, 1, 1), nn.Conv2d(c(32), 3, 1, 1, 0), nn.Sigmoid())

    def forward(self, mels: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        """``mels`` (B, 1, 80, 16) and ``faces`` (B, 6, 96, 96: masked then reference, BGR in [0, 1])
        → mouths (B, 3, 96, 96), BGR in [0, 1]."""
        x = self.audio_encoder(mels)
        skips = []
        feature = faces
        for block in self.face_encoder_blocks:
            feature = block(feature)
            skips.append(feature)
        for block in self.face_decoder_blocks:
            x = torch.cat((block(x), skips.pop()), dim=1)
        return self.output_block(x)


def load_wav2lip(path: Path) -> Wav2Lip:
    """The network with the weights of an official-format checkpoint at ``path`` (on the CPU, in eval mode);
    ``ModelError`` naming the setting when the file is missing, damaged or not Wav2Lip."""
    setting = f'[models] {SETTING} = "{path}"'
    if not Path(path).is_file():
        raise ModelError(f"{setting}: that file does not exist. Put the Wav2Lip checkpoint (wav2lip.pth or "
                         f"wav2lip_gan.pth) there, or remove the {SETTING} setting.")
    try:
        checkpoint: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and torch errors alike: the file is not a readable checkpoint
        raise ModelError(f"{setting}: the file could not be read as a torch checkpoint ({error}).") from error
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise ModelError(f"{setting}: the file holds no state_dict; it must be a Wav2Lip checkpoint.")
    state = {key.removeprefix("module."): value for key, value in state.items()}
    first = state.get(FIRST)
    try:
        if not isinstance(first, torch.Tensor):
            raise RuntimeError(f"it has no {FIRST}")
        model = Wav2Lip(width=first.shape[0])  # 16: the published network; narrower copies load the same way
        model.load_state_dict(state)
    except (RuntimeError, ValueError) as error:
        first = str(error).splitlines()[0:2]
        raise ModelError(f"{setting}: the weights there are not those of the Wav2Lip generator "
                         f"({' '.join(first)}).") from error
    return model.eval()
