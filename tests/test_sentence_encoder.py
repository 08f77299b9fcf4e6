"""The numpy all-MiniLM-L6-v2 encoder: the published files only, and the same vectors as the reference."""
import shutil

import numpy as np
import pytest

from bot.nlu_components.sentence_encoder import (
    MODEL_SHA256,
    TOKENIZER_SHA256,
    EncoderUnavailable,
    get_encoder,
    model_dir,
    sha256_of,
    verify,
)

# The first eight dimensions that sentence-transformers' own PyTorch code gives for these sentences
# (mean pooling, normalised), computed once on 2026-12-05 with torch 2.13 and transformers.
REFERENCE = {
    "my grandson has bruises on his arms":
        [-0.00149, 0.11261, -0.006, 0.01823, -0.00197, 0.00968, 0.05385, 0.05135],
    "What is a special guardianship order?":
        [-0.06221, 0.08851, 0.03494, -0.00272, -0.04701, -0.00891, -0.06162, -0.08862],
    "im so scared the social are gonna take my baby tmrw at the hearing, what do i do":
        [0.0398, -0.00671, -0.0106, -0.03973, 0.00028, -0.02267, 0.00669, 0.00143],
}


def test_the_installed_files_are_the_published_revision():
    directory = model_dir()
    assert sha256_of(directory / "model.safetensors") == MODEL_SHA256
    assert sha256_of(directory / "tokenizer.json") == TOKENIZER_SHA256


def test_a_file_with_another_hash_is_refused(tmp_path):
    shutil.copy(model_dir() / "tokenizer.json", tmp_path / "tokenizer.json")
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(EncoderUnavailable, match="not the published"):
        verify(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(EncoderUnavailable, match="missing"):
        verify(tmp_path)


def test_vectors_match_the_reference_implementation():
    vectors = get_encoder().encode(list(REFERENCE))
    assert vectors.shape == (3, 384)
    for row, expected in zip(vectors, REFERENCE.values()):
        np.testing.assert_allclose(row[:8], expected, atol=2e-4)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_batching_and_the_cache_do_not_change_a_vector():
    encoder = get_encoder()
    texts = ["short", "a much longer message about the child protection conference next week", "short"]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(together[0], together[2])


def test_meaning_not_words():
    a, b, c = get_encoder().encode(["the social worker shouted at us on the doorstep",
                                    "I want to complain about how rude our social worker was",
                                    "how much is the special guardianship allowance"])
    assert a @ b > a @ c
