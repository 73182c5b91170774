"""dlnotes.device and dlnotes.seed."""

import random

import numpy as np
import pytest
import torch

import dlnotes


def test_device_defaults_to_cuda_when_available(monkeypatch):
    monkeypatch.delenv("DLNOTES_DEVICE", raising=False)
    monkeypatch.delenv("DLNOTES_REQUIRE_GPU", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert dlnotes.device().type == expected


def test_device_override(monkeypatch):
    monkeypatch.setenv("DLNOTES_DEVICE", "cpu")
    monkeypatch.delenv("DLNOTES_REQUIRE_GPU", raising=False)
    assert dlnotes.device() == torch.device("cpu")


def test_invalid_device_name(monkeypatch):
    monkeypatch.setenv("DLNOTES_DEVICE", "gpu-please")
    with pytest.raises(ValueError, match="DLNOTES_DEVICE"):
        dlnotes.device()


def test_require_gpu_refuses_cpu(monkeypatch):
    monkeypatch.setenv("DLNOTES_REQUIRE_GPU", "1")
    monkeypatch.setenv("DLNOTES_DEVICE", "cpu")
    with pytest.raises(RuntimeError, match="DLNOTES_REQUIRE_GPU"):
        dlnotes.device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without CUDA")
def test_require_gpu_without_cuda(monkeypatch):
    monkeypatch.delenv("DLNOTES_DEVICE", raising=False)
    monkeypatch.setenv("DLNOTES_REQUIRE_GPU", "1")
    with pytest.raises(RuntimeError):
        dlnotes.device()
    monkeypatch.setenv("DLNOTES_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        dlnotes.device()


def test_seed_makes_every_generator_repeat():
    def draw():
        return random.random(), float(np.random.rand()), float(torch.rand(1))

    dlnotes.seed(7)
    first = draw()
    dlnotes.seed(7)
    assert draw() == first
    assert torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), (True, TypeError)])
def test_seed_rejects_bad_values(bad, error):
    with pytest.raises(error, match="n must"):
        dlnotes.seed(bad)


def test_randn_draws_the_same_numbers_whatever_the_device(monkeypatch):
    monkeypatch.setenv("DLNOTES_DEVICE", "cpu")
    monkeypatch.delenv("DLNOTES_REQUIRE_GPU", raising=False)
    torch.manual_seed(3)
    expected = torch.randn(2, 3, dtype=torch.float64)
    torch.manual_seed(3)
    drawn = dlnotes.randn(2, 3)
    assert drawn.dtype == torch.float64 and torch.equal(drawn, expected)
    assert dlnotes.randn(4, dtype=torch.float32, device="cpu").dtype == torch.float32


@pytest.mark.parametrize("args, kwargs, error", [((2.5,), {}, TypeError), ((-1,), {}, ValueError),
                                                  ((2,), {"dtype": torch.int64}, TypeError)])
def test_randn_rejects_bad_shapes_and_dtypes(args, kwargs, error):
    with pytest.raises(error):
        dlnotes.randn(*args, **kwargs)


def test_seed_offset_changes_every_draw_and_zero_is_the_book(monkeypatch):
    import numpy as np
    base = (dlnotes.randn(4, generator=dlnotes.generator(0), device="cpu"), dlnotes.numpy_rng(0).random(3))
    monkeypatch.setenv("DLNOTES_SEED_OFFSET", "0")
    assert torch.equal(dlnotes.randn(4, generator=dlnotes.generator(0), device="cpu"), base[0])
    assert torch.equal(base[0], torch.randn(4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    monkeypatch.setenv("DLNOTES_SEED_OFFSET", "3")
    assert not torch.equal(dlnotes.randn(4, generator=dlnotes.generator(0), device="cpu"), base[0])
    assert not np.array_equal(dlnotes.numpy_rng(0).random(3), base[1])
    dlnotes.seed(0)
    shifted = torch.randn(2)
    monkeypatch.setenv("DLNOTES_SEED_OFFSET", "0")
    dlnotes.seed(0)
    assert not torch.equal(torch.randn(2), shifted)


@pytest.mark.parametrize("raw", ["-1", "x", "1.5"])
def test_bad_seed_offset_is_named(monkeypatch, raw):
    monkeypatch.setenv("DLNOTES_SEED_OFFSET", raw)
    with pytest.raises(ValueError, match="DLNOTES_SEED_OFFSET"):
        dlnotes.seed_offset()


def test_about_this_draw_is_skipped_only_under_an_offset(monkeypatch, capsys):
    monkeypatch.setenv("DLNOTES_SEED_OFFSET", "0")
    with pytest.raises(dlnotes.CheckFailed):
        dlnotes.check("a count of this draw", 9, 10, about_this_draw=True)
    assert "about this draw" in str(dlnotes.check("a count of this draw", 10, 10, about_this_draw=True))
    monkeypatch.setenv("DLNOTES_SEED_OFFSET", "2")
    record = dlnotes.check("a count of this draw", 9, 10, about_this_draw=True)
    assert "not checked under seed offset 2" in str(record)
    with pytest.raises(dlnotes.CheckFailed):
        dlnotes.check("a claim about any draw", 9, 10)
    with pytest.raises(TypeError, match="about_this_draw"):
        dlnotes.check("x", 1, 1, about_this_draw=1)
