"""CPU tests of the training code on a tiny subset (the real runs need the GPU machine)."""

import math
import os
import subprocess
import sys
from argparse import Namespace

import numpy as np
import pytest
import torch

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, ".."))

from vitscope_train import augment  # noqa: E402
from vitscope_train.data import decode_npz  # noqa: E402
from vitscope_train.knn import knn_accuracy  # noqa: E402
from vitscope_train.models import sincos_2d  # noqa: E402
from vitscope_train.objectives import MocoV3, block_mask, infonce, momentum_at  # noqa: E402
from vitscope_train.train import lr_at, parser, train  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data"))
TINY = ["--depth", "2", "--width", "64", "--heads", "2"]


def test_subset_spans_every_class():
    images, labels, classes = decode_npz(os.path.join(DATA, "imagenette112_val.npz"), limit=50)
    assert images.shape == (50, 112, 112, 3) and images.dtype == np.uint8
    assert len(classes) == 10 and set(labels.tolist()) == set(range(10))


def test_views_are_normalised_distinct_and_in_range():
    torch.manual_seed(0)
    x = torch.randint(0, 256, (8, 3, 112, 112), dtype=torch.uint8)
    v1, v2 = augment.moco_views(x, 112)
    assert v1.shape == v2.shape == (8, 3, 112, 112)
    assert torch.isfinite(v1).all() and not torch.allclose(v1, v2)
    lo = ((0 - augment.MEAN) / augment.STD).min()
    hi = ((1 - augment.MEAN) / augment.STD).max()
    assert v1.min() >= lo - 1e-4 and v1.max() <= hi + 1e-4


def test_full_crop_without_flip_is_identity():
    x = torch.rand(2, 3, 16, 16)
    y = augment.resized_crop(x, 16, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip=False)
    assert torch.allclose(x, y, atol=1e-5)


def test_solarize_inverts_bright_pixels():
    x = torch.tensor([0.2, 0.7]).view(1, 1, 1, 2).expand(1, 3, 1, 2)
    assert torch.allclose(augment.solarize(x, p=1.0)[0, 0, 0], torch.tensor([0.2, 0.3]))


def test_sincos_table_matches_mocov3_formula():
    t = sincos_2d(14, 192)
    assert t.shape == (1, 197, 192) and torch.all(t[0, 0] == 0)
    # Token 1 + (w·14 + h): MoCo v3's meshgrid(grid_w, grid_h) puts w first.
    w, h, d = 3, 5, 7
    omega = 1 / 10000 ** (d / 48)
    assert math.isclose(t[0, 1 + w * 14 + h, d].item(), math.sin(w * omega), abs_tol=1e-6)
    assert math.isclose(t[0, 1 + w * 14 + h, 96 + 48 + d].item(), math.cos(h * omega), abs_tol=1e-6)


def test_block_mask_hides_sixty_percent_in_16px_blocks():
    m = block_mask(4, 112, "cpu")
    assert m.shape == (4, 14, 14)
    assert torch.all(m.sum((1, 2)) == 30 * 4)  # ceil(0.6 · 49) blocks of 2×2 patches
    assert torch.equal(m[:, ::2, ::2].repeat_interleave(2, 1).repeat_interleave(2, 2), m)


def test_schedules():
    assert momentum_at(0.0) == pytest.approx(0.99) and momentum_at(1.0) == pytest.approx(1.0)
    assert lr_at(0.05, 1.0, 0.1) == pytest.approx(0.5) and lr_at(1.0, 1.0, 0.1) == pytest.approx(0.0)


def test_infonce_prefers_matching_pairs():
    q = torch.eye(4)
    assert infonce(q, q, 0.2) < infonce(q, q.roll(1, 0), 0.2)


def test_knn_separates_separable_features():
    bank = torch.tensor([[1.0, 0], [0.9, 0.1], [0, 1.0], [0.1, 0.9]])
    labels = torch.tensor([0, 0, 1, 1])
    assert knn_accuracy(bank, labels, bank, labels, 2, k=2) == 1.0
    assert knn_accuracy(bank, labels, bank, 1 - labels, 2, k=2) == 0.0


def test_encoder_only_export_keeps_what_convert_needs(tmp_path):
    out = tmp_path / "m.pth"
    args = parser().parse_args(["--method", "mocov3", "--out", str(out), "--subset", "20", "--batch", "4",
                                "--max-steps", "1", "--device", "cpu", "--no-eval", "--encoder-only", *TINY])
    train(args)
    keys = torch.load(out, weights_only=False)["state_dict"].keys()
    assert keys and all(k.startswith("module.base_encoder.") and ".head." not in k for k in keys)


def test_momentum_update_moves_toward_online():
    torch.manual_seed(0)
    m = MocoV3(depth=1, embed_dim=32, num_heads=2, proj_hidden=64, dim=16)
    with torch.no_grad():
        for p in m.base_encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in m.momentum_encoder.parameters()]
    m.update_momentum(0.9)
    for b, k, k0 in zip(m.base_encoder.parameters(), m.momentum_encoder.parameters(), before):
        assert torch.allclose(k, 0.9 * k0 + 0.1 * b)


@pytest.mark.parametrize("method", ["mocov3", "simmim", "simmim_abs", "hybrid"])
def test_training_runs_and_writes_an_official_layout(tmp_path, method):
    out = tmp_path / f"{method}.pth"
    args = parser().parse_args(["--method", method, "--out", str(out), "--subset", "40", "--val-subset", "20",
                                "--batch", "8", "--max-steps", "2", "--minutes", "10", "--device", "cpu",
                                "--half", *TINY])
    result = train(args)
    assert result["steps"] == 2 and math.isfinite(result["last_loss"])
    assert 0.0 <= result["knn_cls"] <= 1.0 and 0.0 <= result["knn_avg"] <= 1.0
    ckpt = torch.load(out, weights_only=False)
    if method == "mocov3":
        keys = ckpt["state_dict"].keys()
        assert "module.base_encoder.blocks.1.attn.qkv.weight" in keys
        assert any(k.startswith("module.momentum_encoder.") for k in keys)
        assert any(k.startswith("module.predictor.") for k in keys)
        assert ckpt["state_dict"]["module.base_encoder.pos_embed"].dtype == torch.float16
    elif method == "simmim_abs":
        keys = set(ckpt["model"].keys())
        assert {"encoder.mask_token", "encoder.pos_embed", "encoder.blocks.0.attn.q_bias",
                "encoder.blocks.0.gamma_1", "decoder.0.weight"} <= keys
        assert not any("rel_pos_bias" in k or "relative_position" in k for k in keys)
    else:
        keys = ckpt["model"].keys()
        assert {"encoder.mask_token", "encoder.rel_pos_bias.relative_position_bias_table",
                "encoder.rel_pos_bias.relative_position_index", "encoder.blocks.0.attn.q_bias",
                "encoder.blocks.0.gamma_1", "decoder.0.weight"} <= set(keys)
    # The checkpoint goes through `vitscope convert` exactly like an official file.
    binary = os.path.join(REPO, "target", "debug", "vitscope")
    if not os.path.exists(binary):
        pytest.fail("build the CLI first (cargo build -p vitscope-cli): the export must convert")
    converted = tmp_path / f"{method}.safetensors"
    run = subprocess.run([binary, "convert", str(out), "--heads", "2", "--out", str(converted)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert ("mocov3 layout" if method == "mocov3" else "simmim layout") in run.stdout
    info = subprocess.run([binary, "info", str(converted)], capture_output=True, text=True)
    positions = {"mocov3": "SinCos position,", "simmim_abs": "Learned position,"}
    assert positions.get(method, "None position + Shared relative bias") in info.stdout, info.stdout


@pytest.mark.parametrize("positions", ["relative", "absolute"])
def test_simmim_encoder_without_a_mask_is_timms_beit(positions):
    from vitscope_train.models import SimMimEncoder
    torch.manual_seed(0)
    enc = SimMimEncoder(positions, depth=2, embed_dim=64, num_heads=2).eval()
    if enc.pos_embed is not None:
        torch.nn.init.normal_(enc.pos_embed)  # a zero table would hide a missing addition
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        ours = enc.forward_masked(x, None)
        timm = enc.forward_features(x)
        # What the probe reads: the block outputs, the last one normed being the encoder's output.
        assert torch.allclose(enc.norm(enc.tokens_by_block(x)[-1]), timm, atol=1e-6)
    assert torch.allclose(ours, timm, atol=1e-6)
    assert (enc.pos_embed is None) == (positions == "relative")
    assert (enc.rel_pos_bias is None) == (positions == "absolute")
