"""Weighted kNN evaluation (k = 20, cosine, temperature 0.07; the train set is the bank)."""

import torch
import torch.nn.functional as F

from .augment import normalise


@torch.no_grad()
def embed(model, images_u8: torch.Tensor, batch: int = 256):
    """CLS and average-pooled patch tokens of the final normed tokens, for uint8 NCHW images."""
    cls, avg = [], []
    for i in range(0, images_u8.shape[0], batch):
        x = normalise(images_u8[i:i + batch].float() / 255)
        tokens = model.features(x)
        cls.append(tokens[:, 0].float())
        avg.append(tokens[:, 1:].mean(1).float())
    return torch.cat(cls), torch.cat(avg)


@torch.no_grad()
def knn_accuracy(bank, bank_labels, queries, query_labels, classes: int, k: int = 20, t: float = 0.07) -> float:
    bank, queries = F.normalize(bank, dim=1), F.normalize(queries, dim=1)
    sim, idx = (queries @ bank.t()).topk(min(k, bank.shape[0]), dim=1)
    weights = (sim / t).exp()
    votes = torch.zeros(queries.shape[0], classes, device=queries.device)
    votes.scatter_add_(1, bank_labels[idx], weights)
    return (votes.argmax(1) == query_labels).float().mean().item()
