"""Student language models trained from scratch on (watermarked or not) teacher outputs.

Both use their own tokenizer, unlike the watermark's whitespace chunks: lower-cased words with
punctuation split off, joined back with single spaces ("the results , however , were large .").
That a test still finds the watermark in their output is the "different tokenizer" check.
"""

from __future__ import annotations

import bisect
import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+|[^\sa-z0-9]")
BOS = "<s>"


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def detokenize(tokens: Sequence[str]) -> str:
    return " ".join(t for t in tokens if t != BOS)


@dataclass
class _Table:
    words: list[str]
    cumulative: list[int]

    def sample(self, rng: random.Random) -> str:
        x = rng.randrange(self.cumulative[-1])
        return self.words[bisect.bisect_right(self.cumulative, x)]


def _table(counter: Counter[str]) -> _Table:
    words = sorted(counter)
    total, cumulative = 0, []
    for w in words:
        total += counter[w]
        cumulative.append(total)
    return _Table(words, cumulative)


class NGramStudent:
    """Trigram model with Witten-Bell style backoff to bigrams and unigrams."""

    def __init__(self, order: int = 3) -> None:
        self.order = order
        self._counts: list[dict[tuple[str, ...], Counter[str]]] = []
        self._tables: list[dict[tuple[str, ...], _Table]] = []

    def fit(self, texts: Sequence[str]) -> NGramStudent:
        counts: list[defaultdict[tuple[str, ...], Counter[str]]] = [
            defaultdict(Counter) for _ in range(self.order)
        ]
        for text in texts:
            tokens = [BOS] * (self.order - 1) + tokenize(text)
            for i in range(self.order - 1, len(tokens)):
                for n in range(self.order):
                    counts[n][tuple(tokens[i - n : i])][tokens[i]] += 1
        self._counts = [dict(c) for c in counts]
        self._tables = [{k: _table(v) for k, v in c.items()} for c in counts]
        return self

    def next_token(self, history: Sequence[str], rng: random.Random) -> str:
        for n in range(self.order - 1, 0, -1):
            context = tuple(history[-n:]) if len(history) >= n else None
            counter = self._counts[n].get(context) if context else None
            if counter is None:
                continue
            total, distinct = sum(counter.values()), len(counter)
            if rng.random() < total / (total + distinct):  # Witten-Bell weight of this order
                return self._tables[n][context].sample(rng)  # type: ignore[index]
        return self._tables[0][()].sample(rng)

    def generate(self, prefix: str, length: int, rng: random.Random) -> str:
        history = [BOS] * (self.order - 1) + tokenize(prefix)
        out: list[str] = []
        for _ in range(length):
            token = self.next_token(history + out, rng)
            out.append(token)
        return detokenize(out)


class MLPStudent:
    """A small neural LM, numpy only: an MLP over the previous `width` tokens (Bengio et al.,
    2003) with a two-level softmax (class, then word in class) so training takes minutes."""

    def __init__(
        self,
        *,
        classes: int = 64,
        per_class: int = 64,
        width: int = 3,
        dim: int = 48,
        hidden: int = 160,
        seed: int = 0,
    ) -> None:
        self.classes, self.per_class = classes, per_class
        self.width, self.dim, self.hidden = width, dim, hidden
        self._rng = np.random.default_rng(seed)
        self.words: list[str] = []
        self.ids: dict[str, int] = {}
        self.params: dict[str, np.ndarray] = {}

    def _encode(self, tokens: Sequence[str]) -> list[int]:
        unk = self.ids["<unk>"]
        return [self.ids.get(t, unk) for t in tokens]

    def _build_vocab(self, texts: Sequence[str]) -> np.ndarray:
        size = self.classes * self.per_class
        freq = Counter(t for text in texts for t in tokenize(text))
        words = [BOS, "<unk>"] + [w for w, _ in freq.most_common(size - 2)]
        self.words = words + [f"<pad{i}>" for i in range(size - len(words))]
        self.ids = {w: i for i, w in enumerate(self.words)}
        rows: list[int] = []
        for text in texts:
            rows.extend(self._encode([BOS] * self.width + tokenize(text)))
        return np.array(rows, dtype=np.int32)

    def _init(self) -> None:
        c, s, d, h, w = self.classes, self.per_class, self.dim, self.hidden, self.width
        r = self._rng
        params = {
            "emb": r.normal(0, 0.1, (c * s, d)),
            "w1": r.normal(0, (w * d) ** -0.5, (w * d, h)),
            "b1": np.zeros(h),
            "wc": r.normal(0, h**-0.5, (h, c)),
            "bc": np.zeros(c),
            "w2": r.normal(0, h**-0.5, (c, h, s)),
            "b2": np.zeros((c, s)),
        }
        self.params = {k: v.astype(np.float32) for k, v in params.items()}

    def _hidden(self, ctx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        x = p["emb"][ctx].reshape(len(ctx), -1)
        return x, np.tanh(x @ p["w1"] + p["b1"])

    def _grads(self, ctx: np.ndarray, target: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        p, n = self.params, len(ctx)
        x, h = self._hidden(ctx)
        cls, pos = target // self.per_class, target % self.per_class
        d_cls, loss = _softmax_grad(h @ p["wc"] + p["bc"], cls)
        d_h = d_cls @ p["wc"].T
        d_w2, d_b2 = np.zeros_like(p["w2"]), np.zeros_like(p["b2"])
        for c in np.unique(cls):  # the word-in-class softmax, one class's rows at a time
            rows = np.flatnonzero(cls == c)
            d_pos, loss_c = _softmax_grad(h[rows] @ p["w2"][c] + p["b2"][c], pos[rows])
            d_pos *= len(rows) / n
            loss += loss_c * len(rows) / n
            d_w2[c] = h[rows].T @ d_pos
            d_b2[c] = d_pos.sum(0)
            d_h[rows] += d_pos @ p["w2"][c].T
        d_pre = d_h * (1.0 - h**2)
        d_emb = np.zeros_like(p["emb"])
        np.add.at(d_emb, ctx, (d_pre @ p["w1"].T).reshape(n, self.width, self.dim))
        grads = {
            "emb": d_emb,
            "w1": x.T @ d_pre,
            "b1": d_pre.sum(0),
            "wc": h.T @ d_cls,
            "bc": d_cls.sum(0),
            "w2": d_w2,
            "b2": d_b2,
        }
        return loss, grads

    def fit(
        self, texts: Sequence[str], epochs: int = 2, batch: int = 512, lr: float = 3e-3
    ) -> list[float]:
        """Adam on next-token cross-entropy; returns the mean loss of each epoch."""
        stream = self._build_vocab(texts)
        self._init()
        positions = np.arange(self.width, len(stream))
        offsets = np.arange(-self.width, 0)
        adam = _Adam(self.params, lr)
        history = []
        for _ in range(epochs):
            self._rng.shuffle(positions)
            losses = []
            for start in range(0, len(positions), batch):
                idx = positions[start : start + batch]
                loss, grads = self._grads(stream[idx[:, None] + offsets], stream[idx])
                adam.step(self.params, grads)
                losses.append(loss)
            history.append(float(np.mean(losses)))
        return history

    def _probs(self, ctx: np.ndarray) -> np.ndarray:
        p = self.params
        _, h = self._hidden(ctx)
        p_cls = _softmax(h @ p["wc"] + p["bc"])
        p_word = _softmax(np.einsum("bh,chs->bcs", h, p["w2"]) + p["b2"])
        probs: np.ndarray = (p_cls[:, :, None] * p_word).reshape(len(ctx), -1)
        return probs

    def generate_many(self, prefixes: Sequence[str], length: int, seed: int) -> list[str]:
        """Continue every prefix by `length` sampled tokens (batched)."""
        rng = np.random.default_rng(seed)
        ctx = np.array(
            [self._encode(([BOS] * self.width + tokenize(p))[-self.width :]) for p in prefixes],
            dtype=np.int32,
        ).reshape(len(prefixes), self.width)
        out = np.zeros((len(prefixes), length), dtype=np.int32)
        banned = [i for i, w in enumerate(self.words) if w.startswith("<")]
        for t in range(length):
            probs = self._probs(ctx)
            probs[:, banned] = 0.0
            cumulative = probs.cumsum(axis=1)
            u = rng.random((len(prefixes), 1)) * cumulative[:, -1:]
            nxt = (cumulative < u).sum(axis=1).clip(0, probs.shape[1] - 1).astype(np.int32)
            out[:, t] = nxt
            ctx = np.concatenate([ctx[:, 1:], nxt[:, None]], axis=1)
        return [detokenize([self.words[i] for i in row]) for row in out]


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def _softmax_grad(logits: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float]:
    """Gradient of mean cross-entropy with respect to the logits, and the loss."""
    n = len(target)
    probs = _softmax(logits)
    loss = float(-np.log(probs[np.arange(n), target] + 1e-12).mean())
    probs[np.arange(n), target] -= 1.0
    return probs / n, loss


class _Adam:
    def __init__(self, params: dict[str, np.ndarray], lr: float) -> None:
        self.lr, self.t = lr, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        for k, g in grads.items():
            self.m[k] = 0.9 * self.m[k] + 0.1 * g
            self.v[k] = 0.999 * self.v[k] + 0.001 * g * g
            m_hat = self.m[k] / (1 - 0.9**self.t)
            v_hat = self.v[k] / (1 - 0.999**self.t)
            params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
