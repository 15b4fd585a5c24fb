"""Card overrides for `vitscope convert --card`, from a training run's JSON (and its linear probe), and the
explorer's manifest from the converted files.

    python -m vitscope_train.card override mocov3.json [mocov3.probe.json] > card.json
    python -m vitscope_train.card manifest www/models > www/models/manifest.json
"""

import hashlib
import json
import os
import sys

from .train import RECIPES

NAMES = {"mocov3": ("vitscope MoCo v3 ViT-Ti/8 (Imagenette)", "CL"),
         "simmim": ("vitscope SimMIM ViT-Ti/8 (Imagenette)", "MIM"),
         "hybrid": ("vitscope hybrid MoCo v3 + SimMIM ViT-Ti/8 (Imagenette)", "hybrid")}
RECIPE_TEXT = {
    "mocov3": "MoCo v3 recipe: fixed 2-D sin-cos positions, frozen random patch projection, 3-layer projector and "
              "2-layer predictor with BatchNorm, symmetric InfoNCE (tau 0.2), momentum 0.99 to 1 on a cosine, two "
              "asymmetric views (crop 0.2-1, flip, colour jitter, grayscale, blur, solarize on the second)",
    "simmim": "SimMIM recipe: shared relative position bias, layer scale 0.1, q/v bias, no absolute positions, 60 % "
              "random masking in 16-px blocks, learnable mask token, 1x1-conv + pixel-shuffle linear decoder, L1 on "
              "masked pixels",
    "simmim_abs": "SimMIM recipe on a plain ViT (SimMIM's use_abs_pos_emb): learned absolute positions, no relative "
                  "bias, layer scale 0.1, q/v bias, 60 % random masking in 16-px blocks, learnable mask token, "
                  "1x1-conv + pixel-shuffle linear decoder, L1 on masked pixels",
    "hybrid": "Hybrid (paper section 5): one SimMIM-style encoder trained with 0.5 L_MIM + 0.5 L_CL; both views are "
              "masked for the SimMIM decoder, and their CLS tokens go through MoCo v3's projector and predictor "
              "against a momentum encoder's CLS tokens of the unmasked views",
}
OBJECTIVES = {"mocov3": "MoCo v3: contrastive (InfoNCE) between two views, momentum encoder",
              "simmim": "SimMIM: masked image modelling, L1 on raw pixels of masked patches",
              "hybrid": "0.5 x SimMIM (L1 on masked pixels) + 0.5 x MoCo v3 (InfoNCE with a momentum encoder)"}
# The plain-ViT SimMIM run is the same model to a reader; only its recipe text differs.
NAMES["simmim_abs"], OBJECTIVES["simmim_abs"] = NAMES["simmim"], OBJECTIVES["simmim"]
DATA = "Imagenette train (9,469 images of 10 ImageNet classes at 112 px, no labels used)"


def override(run: dict, probe: list | None) -> dict:
    m = run["method"]
    r = RECIPES[m]
    name, family = NAMES[m]
    recipe = (f"{RECIPE_TEXT[m]}. ViT-Ti/8 at 112 px (width 192, 12 blocks, 3 heads, 14x14 tokens). AdamW "
              f"(betas 0.9, 0.95), weight decay {r['wd']}, lr {run.get('base_lr', r['lr']):g} per 256 images, warm-up "
              f"{int(r['warmup'] * 100)} % then cosine, bf16, batch {run['batch']}; the schedule runs on a wall-clock "
              f"budget, sharing one GPU with other runs ({run['seconds'] / 60:.1f} minutes)")
    evaluation = {"protocol": "Imagenette val (1,000 images), kNN k = 20, cosine, T = 0.07, train set as the bank; "
                              "linear probe on the average-pooled tokens after each block (2,000 train images, "
                              "full-batch AdamW, 300 steps)",
                  "knn_cls": run["knn_cls"], "knn_avg_pool": run["knn_avg"]}
    if probe:
        evaluation["linear_probe_per_layer"] = probe
    return {
        "name": name,
        "family": family,
        "objective": OBJECTIVES[m],
        "license": "MIT OR Apache-2.0 (weights trained by vitscope; Imagenette is a subset of ImageNet, whose terms "
                   "allow non-commercial research and education)",
        "training_data": DATA,
        "citation": "vitscope tools/train, after Chen, Xie, He (MoCo v3, ICCV 2021) and Xie et al. (SimMIM, CVPR "
                    "2022); analyses of Park et al., What Do Self-Supervised Vision Transformers Learn? ICLR 2023",
        "notes": "A small model trained by vitscope in minutes, not the paper's ViT-B/16 trained for 300-800 ImageNet "
                 "epochs: its numbers show the same kind of behaviour at a much smaller scale and can differ from "
                 "the paper's.",
        "training": {
            "recipe": recipe,
            "command": f"OUT=runs MINUTES={run['seconds'] / 60:.1f} PARALLEL=1 bash tools/train/device.sh {m} && "
                       f"{'SIMMIM=simmim_abs ' if m == 'simmim_abs' else ''}bash tools/train/ship.sh runs",
            "steps": run["steps"], "epochs": run["epochs"], "batch": run["batch"], "seconds": run["seconds"],
            "hardware": f"1x {run['device']}",
            "evaluation": evaluation,
        },
    }


def manifest(folder: str) -> dict:
    """One entry per model file: what the explorer lists before downloading anything."""
    from safetensors import safe_open

    models = []
    for file in sorted(f for f in os.listdir(folder) if f.endswith(".safetensors")):
        path = os.path.join(folder, file)
        with safe_open(path, "np") as f:
            meta = f.metadata()
        card, config = json.loads(meta["card"]), json.loads(meta["config"])
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        models.append({"id": file.removesuffix(".safetensors"), "name": card["name"], "family": card["family"],
                       "file": file, "bytes": os.path.getsize(path), "sha256": digest,
                       "precision": meta.get("precision"), "image_size": config.get("image_size"),
                       "card": {k: card[k] for k in ("objective", "training_data", "license", "notes") if k in card}})
    return {"models": models, "default_pair": pair(models)}


def pair(models: list) -> list:
    """CL next to MIM when both exist, else the first two."""
    by_family = {m["family"]: m["id"] for m in reversed(models)}
    if "CL" in by_family and "MIM" in by_family:
        return [by_family["CL"], by_family["MIM"]]
    return [m["id"] for m in models[:2]]


def main():
    if sys.argv[1] == "override":
        run = json.load(open(sys.argv[2]))
        probe = json.load(open(sys.argv[3])) if len(sys.argv) > 3 and os.path.exists(sys.argv[3]) else None
        print(json.dumps(override(run, probe), indent=1))
    elif sys.argv[1] == "manifest":
        print(json.dumps(manifest(sys.argv[2]), indent=1))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
