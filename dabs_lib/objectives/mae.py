"""Masked prediction ("mae" in DABS 2.0): BERT-style, not an encoder-decoder MAE.

k = ceil(n_real * corruption_rate) real embeddings per example are replaced by a mask
vector; the encoder sees the whole sequence and a per-input head reconstructs what was
masked: the raw patch/segment/feature for continuous inputs, the token id (logits
against the tied input embedding matrix) for token inputs. Unlike the original, every
input kind and any mix of inputs works: each input is scored on its own token range
(`embedding.segments`), and the loss is the mean over the inputs that had masked tokens.
The heads run on the masked positions only: for a 250k vocabulary at batch 128 x 128
tokens, scoring every position would cost about 16 GB of logits; the masked 15% cost 1/7.
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dabs_lib.encoder import Encoder
from dabs_lib.objectives.corruption import (
    check_choice,
    choose_positions,
    make_mask_vector,
    mask_tokens,
    replacement_for,
)
from dabs_lib.objective_configs import MaskedPredictionConfig
from dabs_lib.settings_rules import REGRESSION_LOSSES
from dabs_lib.specs import is_continuous


def masked_regression_loss(pred: Tensor, target: Tensor, masked: Tensor, loss: str = "l2") -> Tensor:
    """Mean over masked tokens of a per-token distance; pred, target (B, N, P), masked (B, N)."""
    return regression_loss(pred[masked], target[masked], loss)


def regression_loss(pred: Tensor, target: Tensor, loss: str = "l2") -> Tensor:
    """Mean over rows of a per-token distance; pred, target (M, P), the masked tokens only."""
    check_choice("loss", loss, REGRESSION_LOSSES)
    diff = pred.float() - target.float()  # (M, P), in float32 under AMP
    if loss == "l2":
        per_token = torch.linalg.vector_norm(diff, dim=-1)
    elif loss == "mse":
        per_token = diff.pow(2).mean(dim=-1)
    else:
        per_token = diff.abs().mean(dim=-1)
    return per_token.mean()


def masked_token_loss(logits: Tensor, target: Tensor, masked: Tensor) -> Tensor:
    """Cross-entropy over masked tokens; logits (B, N, V), target ids (B, N), masked (B, N)."""
    return F.cross_entropy(logits[masked], target[masked].long())  # (M, V) rows


class TiedTokenHead(nn.Module):
    """Logits against the input embedding table (weights tied, as BERT), plus a per-id bias."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, states: Tensor, table: Tensor) -> Tensor:
        return states @ table.T + self.bias  # (..., D) -> (..., V)


class MaskedPrediction(nn.Module):
    Config = MaskedPredictionConfig
    trains = True
    needs_labels = False
    pooled: Tensor | None = None  # detached (B, D) pooled feature of the last forward (online probe)

    def __init__(self, encoder: Encoder, config: MaskedPredictionConfig = MaskedPredictionConfig()) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = config
        d = encoder.config.embed_dim
        self.mask_vector = make_mask_vector(config.mask_token, d)
        self.heads = nn.ModuleList(
            nn.Linear(d, spec.token_size) if is_continuous(spec) else TiedTokenHead(spec.vocab_size)
            for spec in encoder.specs
        )

    def _input_loss(self, index: int, states: Tensor, target: Tensor, masked: Tensor) -> tuple[Tensor, Tensor | None]:
        """Loss of one input on its own token range, and token accuracy for token inputs.

        states (B, N, D), target (B, N[, P]), masked (B, N): the head sees only the M
        masked positions, so token logits are (M, V), never (B, N, V).
        """
        head, picked, wanted = self.heads[index], states[masked], target[masked]  # (M, D), (M[, P])
        if isinstance(head, TiedTokenHead):
            table = self.encoder.embedding.parts[index].table.weight  # (V, D)
            logits = head(picked, table)  # (M, V)
            acc = (logits.argmax(-1) == wanted).float().mean()
            return F.cross_entropy(logits, wanted.long()), acc
        return regression_loss(head(picked), wanted, self.config.loss), None

    def forward(self, inputs: list[Tensor], labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        tokens, padding_mask = self.encoder.embed(inputs)  # (B, L, D), (B, L)
        chosen = choose_positions(padding_mask, self.config.corruption_rate)
        corrupted = mask_tokens(tokens, chosen, replacement_for(self.mask_vector, tokens))
        encoded = self.encoder.encode(corrupted, padding_mask)
        self.pooled, states = encoded.pooled.detach(), encoded.tokens  # (B, D), (B, L, D)
        targets = self.encoder.embedding.targets(inputs)
        losses, accs = [], []
        for index, (start, end) in enumerate(self.encoder.embedding.segments):
            masked = chosen[:, start:end]  # (B, N_i)
            if not masked.any():
                continue
            loss, acc = self._input_loss(index, states[:, start:end], targets[index], masked)
            losses.append(loss)
            if acc is not None:
                accs.append(acc)
        if not losses:  # every row was padding: nothing to reconstruct
            return states.sum() * 0.0, {}
        metrics = {"masked_frac": chosen.float().mean().detach()}
        if accs:
            metrics["acc"] = torch.stack(accs).mean().detach()
        return torch.stack(losses).mean(), metrics
