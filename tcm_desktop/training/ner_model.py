"""The text model: TinyBERT-shaped character encoder + lexicon features + BiLSTM + CRF.

The encoder is a ``transformers`` BERT built from a local config (no hub
download). Lexicon BMES features are projected and added to the character
embeddings before the encoder (terminology-enhanced embeddings). The CRF is
trained with a partial-label objective: ``log Z - log Z(allowed paths)``, so a
category a source does not annotate is unknown there rather than "O". This is
why the CRF is ours rather than ``pytorch-crf``'s, which only scores one gold
path; decoding at run time is numpy Viterbi (``tcm_desktop.text.tagging``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from transformers import BertConfig, BertModel

from tcm_desktop.text.tagging import allowed_starts, allowed_transitions

NEG = -1e4


@dataclass
class ModelConfig:
    vocab_size: int
    n_tags: int
    n_lex: int
    hidden: int = 312
    layers: int = 4
    heads: int = 12
    ffn: int = 1200
    lstm: int = 128
    max_len: int = 128
    use_lexicon: bool = True
    use_lstm: bool = True
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


class Emissions(nn.Module):
    """Characters + lexicon features -> per-tag emission scores (what ONNX exports)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        bcfg = BertConfig(
            vocab_size=cfg.vocab_size, hidden_size=cfg.hidden, num_hidden_layers=cfg.layers,
            num_attention_heads=cfg.heads, intermediate_size=cfg.ffn, max_position_embeddings=cfg.max_len,
            type_vocab_size=1, hidden_dropout_prob=cfg.dropout, attention_probs_dropout_prob=cfg.dropout,
        )
        bcfg._attn_implementation = "eager"
        self.bert = BertModel(bcfg, add_pooling_layer=False)
        self.lex_proj = nn.Linear(cfg.n_lex, cfg.hidden) if cfg.use_lexicon and cfg.n_lex else None
        # A BiLSTM as two one-way LSTMs: the backward one runs over each sequence
        # reversed within its own length, so padding never reaches real tokens
        # and a window's result does not depend on what it is batched with.
        self.lstm_f = nn.LSTM(cfg.hidden, cfg.lstm, batch_first=True) if cfg.use_lstm else None
        self.lstm_b = nn.LSTM(cfg.hidden, cfg.lstm, batch_first=True) if cfg.use_lstm else None
        self._register_load_state_dict_pre_hook(_from_bidirectional)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(2 * cfg.lstm if cfg.use_lstm else cfg.hidden, cfg.n_tags)

    def encode(self, ids: torch.Tensor, lex: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The encoder's last hidden states (characters + lexicon features through BERT), before the BiLSTM."""
        emb = self.bert.embeddings.word_embeddings(ids)
        if self.lex_proj is not None:
            emb = emb + self.lex_proj(lex)
        return self.bert(inputs_embeds=emb, attention_mask=mask.to(torch.long)).last_hidden_state

    def forward(self, ids: torch.Tensor, lex: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.encode(ids, lex, mask)
        h = h * mask.unsqueeze(-1).to(h.dtype)
        if self.lstm_f is not None:
            lengths = mask.to(torch.long).sum(1)
            fwd, _ = self.lstm_f(h)
            bwd, _ = self.lstm_b(reverse_padded(h, lengths))
            h = torch.cat([fwd, reverse_padded(bwd, lengths)], dim=-1)
        return self.out(self.drop(h))


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of ``x`` ``[B, T, H]`` within its length; padding stays at the end."""
    ar = torch.arange(x.shape[1], device=x.device).unsqueeze(0)
    n = lengths.unsqueeze(1)
    idx = torch.where(ar < n, n - 1 - ar, ar)
    rows = torch.arange(x.shape[0], device=x.device).unsqueeze(1)
    return x[rows, idx]


def _from_bidirectional(state_dict, prefix, *args) -> None:
    """Load checkpoints saved with one bidirectional ``nn.LSTM`` (``lstm.*``)."""
    for key in [k for k in state_dict if k.startswith(prefix + "lstm.")]:
        name = key[len(prefix) + len("lstm."):]
        target = "lstm_b." + name[: -len("_reverse")] if name.endswith("_reverse") else "lstm_f." + name
        state_dict[prefix + target] = state_dict.pop(key)


class CRF(nn.Module):
    """Linear-chain CRF with BIO constraints and a partial-label loss."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__()
        k = len(tags)
        self.transitions = nn.Parameter(torch.zeros(k, k))
        self.start = nn.Parameter(torch.zeros(k))
        self.end = nn.Parameter(torch.zeros(k))
        self.register_buffer("trans_mask", torch.tensor(~allowed_transitions(tags)), persistent=False)
        self.register_buffer("start_mask", torch.tensor(~allowed_starts(tags)), persistent=False)

    def constrained(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        trans = self.transitions.masked_fill(self.trans_mask, NEG)
        start = self.start.masked_fill(self.start_mask, NEG)
        return trans, start, self.end

    def _log_partition(self, em: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        trans, start, end = self.constrained()
        alpha = start + em[:, 0]
        for t in range(1, em.shape[1]):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans.unsqueeze(0), dim=1) + em[:, t]
            alpha = torch.where(mask[:, t : t + 1], nxt, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def partial_nll(self, em: torch.Tensor, allowed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of ``log Z - log Z_allowed``."""
        log_z = self._log_partition(em, mask)
        log_z_allowed = self._log_partition(em.masked_fill(~allowed, NEG), mask)
        return (log_z - log_z_allowed).mean()

    def marginal_log_partition(self, em: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self._log_partition(em, mask)


class NerModel(nn.Module):
    def __init__(self, cfg: ModelConfig, tags: list[str]) -> None:
        super().__init__()
        self.cfg = cfg
        self.tags = tags
        self.emissions = Emissions(cfg)
        self.crf = CRF(tags)

    def loss(self, ids, lex, allowed, mask) -> torch.Tensor:
        return self.crf.partial_nll(self.emissions(ids, lex, mask), allowed, mask)
