"""verify.adam.Adam gives torch.optim.Adam's numbers bit for bit (the CPU single-tensor path)
without importing torch's compiler stack; bad hyperparameters are named."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from modgap.verify._validation import InputError  # noqa: E402
from modgap.verify.adam import Adam  # noqa: E402

VERIFY = Path(__file__).resolve().parents[1] / "verify"


def _model(seed: int):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.GELU(), torch.nn.Linear(7, 3))


def _loss(model, x):
    out = model(x)
    return (out.sin() * out).sum() + 0.1 * (out**2).mean()


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"lr": 3e-2, "weight_decay": 1e-2},
        {"lr": 1e-1, "betas": (0.5, 0.9), "eps": 1e-6},
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_step_equals_torch_adam_bit_for_bit(kw, dtype):
    ours, ref = _model(0).to(dtype), _model(0).to(dtype)
    opt = Adam(ours.parameters(), **kw)
    opt_ref = torch.optim.Adam(ref.parameters(), **kw)
    x = torch.randn(11, 5, generator=torch.Generator().manual_seed(1), dtype=dtype)
    for _ in range(60):
        for model, o in ((ours, opt), (ref, opt_ref)):
            o.zero_grad()
            _loss(model, x).backward()
            o.step()
        for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
            assert torch.equal(p, q)


def test_a_parameter_without_gradient_is_left_alone():
    a = torch.nn.Parameter(torch.ones(3))
    b = torch.nn.Parameter(torch.ones(2))
    opt = Adam([a, b], lr=0.1)
    (a**2).sum().backward()
    opt.step()
    assert torch.equal(b, torch.ones(2)) and not torch.equal(a, torch.ones(3))
    assert opt.steps == [1, 0]
    opt.zero_grad()
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize(
    "kw,name",
    [
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"betas": (1.0, 0.999)}, "betas[0]"),
        ({"betas": (0.9, -0.1)}, "betas[1]"),
        ({"betas": (0.9, "x")}, "betas[1]"),
        ({"betas": (0.9,)}, "betas"),
        ({"eps": -1.0}, "eps"),
        ({"weight_decay": -1.0}, "weight_decay"),
    ],
)
def test_bad_hyperparameters_are_named(kw, name):
    with pytest.raises(InputError, match=name.replace("[", r"\[").replace("]", r"\]")):
        Adam([torch.nn.Parameter(torch.ones(2))], **kw)


def test_empty_params_is_an_error():
    with pytest.raises(InputError, match="params"):
        Adam([])


def test_no_module_of_verify_uses_torch_optim():
    """torch.optim's optimizers import torch._dynamo on creation (about 1.3 s a process);
    the package's trainings use verify.adam instead."""
    for path in VERIFY.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "optim":
                pytest.fail(f"{path.name}:{node.lineno} uses torch.optim")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch.optim"):
                pytest.fail(f"{path.name}:{node.lineno} imports {node.module}")
