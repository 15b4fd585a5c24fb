"""Batched augmentations on the device (affine grids and tensor maths), so the GPU never waits on Python.

MoCo v3's two asymmetric views: random resized crop (scale 0.2–1), flip, colour jitter (p = 0.8),
grayscale (p = 0.2), Gaussian blur (p = 1.0 / 0.1), solarize (p = 0 / 0.2). SimMIM uses a milder crop
(scale 0.67–1) and flip only.
"""

import math

import torch
import torch.nn.functional as F

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - MEAN.to(x.device)) / STD.to(x.device)


def resized_crop(x: torch.Tensor, size: int, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3), flip=True) -> torch.Tensor:
    """Random resized crop (+ horizontal flip) of float images [B, 3, H, W] via one affine grid."""
    b = x.shape[0]
    dev = x.device
    area = torch.empty(b, device=dev).uniform_(*scale)
    log_r = torch.empty(b, device=dev).uniform_(math.log(ratio[0]), math.log(ratio[1]))
    r = torch.exp(log_r)
    w = torch.sqrt(area * r).clamp(max=1.0)
    h = torch.sqrt(area / r).clamp(max=1.0)
    cx = (torch.rand(b, device=dev) * 2 - 1) * (1 - w)
    cy = (torch.rand(b, device=dev) * 2 - 1) * (1 - h)
    sign = torch.where(torch.rand(b, device=dev) < 0.5, -1.0, 1.0) if flip else torch.ones(b, device=dev)
    sx = w * sign
    theta = torch.zeros(b, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 2] = sx, cx
    theta[:, 1, 1], theta[:, 1, 2] = h, cy
    grid = F.affine_grid(theta, (b, 3, size, size), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _gray(x: torch.Tensor) -> torch.Tensor:
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]).expand_as(x)


def colour_jitter(x, p=0.8, brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1):
    b = x.shape[0]
    dev = x.device
    apply = (torch.rand(b, 1, 1, 1, device=dev) < p).float()
    f = lambda s: 1 + (torch.rand(b, 1, 1, 1, device=dev) * 2 - 1) * s
    y = x * f(brightness)
    mean = y.mean((1, 2, 3), keepdim=True)
    y = (y - mean) * f(contrast) + mean
    g = _gray(y)
    y = (y - g) * f(saturation) + g
    # Hue: rotate chroma around the gray axis (YIQ rotation).
    angle = (torch.rand(b, device=dev) * 2 - 1) * hue * 2 * math.pi
    cos, sin = torch.cos(angle).view(b, 1, 1), torch.sin(angle).view(b, 1, 1)
    yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], device=dev)
    rgb = torch.linalg.inv(yiq)
    q = torch.einsum("ij,bjhw->bihw", yiq, y)
    i2 = q[:, 1] * cos - q[:, 2] * sin
    q2 = q[:, 1] * sin + q[:, 2] * cos
    y = torch.einsum("ij,bjhw->bihw", rgb, torch.stack([q[:, 0], i2, q2], 1))
    return (apply * y + (1 - apply) * x).clamp(0, 1)


def grayscale(x, p=0.2):
    apply = (torch.rand(x.shape[0], 1, 1, 1, device=x.device) < p).float()
    return apply * _gray(x) + (1 - apply) * x


def blur(x, p, sigma=(0.1, 2.0), kernel=11):
    """Gaussian blur with a per-image sigma, as a separable depthwise convolution."""
    b, c, h, w = x.shape
    dev = x.device
    s = torch.empty(b, device=dev).uniform_(*sigma) * (h / 224)  # sigma scaled to the image size
    t = torch.arange(kernel, device=dev) - kernel // 2
    k = torch.exp(-(t[None] ** 2) / (2 * s[:, None] ** 2))
    k = (k / k.sum(1, keepdim=True)).repeat_interleave(c, 0)  # [B·C, K]
    y = x.reshape(1, b * c, h, w)
    half = kernel // 2
    y = F.conv2d(F.pad(y, (half, half, 0, 0), mode="reflect"), k.view(b * c, 1, 1, kernel), groups=b * c)
    y = F.conv2d(F.pad(y, (0, 0, half, half), mode="reflect"), k.view(b * c, 1, kernel, 1), groups=b * c)
    apply = (torch.rand(b, 1, 1, 1, device=dev) < p).float()
    return apply * y.view(b, c, h, w) + (1 - apply) * x


def solarize(x, p):
    apply = (torch.rand(x.shape[0], 1, 1, 1, device=x.device) < p).float()
    return apply * torch.where(x >= 0.5, 1 - x, x) + (1 - apply) * x


def moco_views(images_u8: torch.Tensor, size: int):
    """The two asymmetric MoCo v3 views of a uint8 batch, normalised."""
    x = images_u8.float() / 255
    v1 = blur(grayscale(colour_jitter(resized_crop(x, size))), p=1.0)
    v2 = solarize(blur(grayscale(colour_jitter(resized_crop(x, size))), p=0.1), p=0.2)
    return normalise(v1), normalise(v2)


def simmim_view(images_u8: torch.Tensor, size: int):
    x = images_u8.float() / 255
    return normalise(resized_crop(x, size, scale=(0.67, 1.0), ratio=(3 / 4, 4 / 3)))
