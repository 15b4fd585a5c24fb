"""The shipping helpers: card overrides from a run, the manifest of the bundled models, the linear probe."""

import hashlib
import json
import os
import sys

import torch

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, ".."))

from vitscope_train.card import manifest, override  # noqa: E402
from vitscope_train.probe import linear_probe  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
RUN = {"method": "simmim", "steps": 1726, "epochs": 93.3, "seconds": 264.0, "batch": 512, "base_lr": 0.0015,
       "device": "NVIDIA H100 80GB HBM3", "knn_cls": 0.333, "knn_avg": 0.35}


def test_override_describes_the_run_and_its_evaluation():
    card = override(RUN, [0.4, 0.45])
    assert card["family"] == "MIM"
    t = card["training"]
    assert (t["steps"], t["batch"], t["hardware"]) == (1726, 512, "1x NVIDIA H100 80GB HBM3")
    assert "lr 0.0015 per 256" in t["recipe"] and "4.4 minutes" in t["recipe"]
    assert "MINUTES=4.4" in t["command"] and "device.sh simmim" in t["command"]
    assert t["evaluation"]["knn_cls"] == 0.333 and t["evaluation"]["linear_probe_per_layer"] == [0.4, 0.45]
    assert "not the paper's ViT-B/16" in card["notes"]


def test_the_plain_vit_simmim_run_ships_as_the_simmim_model_with_its_own_recipe():
    card = override({**RUN, "method": "simmim_abs"}, None)
    assert (card["name"], card["family"]) == ("vitscope SimMIM ViT-Ti/8 (Imagenette)", "MIM")
    assert "learned absolute positions, no relative bias" in card["training"]["recipe"]
    assert "shared relative position bias" not in card["training"]["recipe"]
    assert "device.sh simmim_abs && SIMMIM=simmim_abs bash tools/train/ship.sh" in card["training"]["command"]


def test_manifest_lists_the_bundled_files_with_their_real_hashes():
    folder = os.path.join(REPO, "www", "models")
    m = manifest(folder)
    assert len(m["models"]) >= 2
    for entry in m["models"]:
        path = os.path.join(folder, entry["file"])
        with open(path, "rb") as f:
            assert entry["sha256"] == hashlib.sha256(f.read()).hexdigest()
        assert entry["bytes"] == os.path.getsize(path) and entry["precision"] == "int8"
    families = {e["id"]: e["family"] for e in m["models"]}
    assert [families[i] for i in m["default_pair"]] == ["CL", "MIM"]
    with open(os.path.join(folder, "manifest.json")) as f:
        assert json.load(f) == m, "www/models/manifest.json is stale: rerun tools/train/ship.sh"


def test_linear_probe_separates_separable_classes():
    torch.manual_seed(0)
    centres = torch.randn(3, 16) * 4
    labels = torch.arange(300) % 3
    feats = centres[labels] + torch.randn(300, 16)
    acc = linear_probe(feats[:200], labels[:200], feats[200:], labels[200:], 3, steps=100)
    assert acc > 0.95
    noise = linear_probe(torch.randn(200, 16), labels[:200], torch.randn(100, 16), labels[200:], 3, steps=100)
    assert noise < 0.6
