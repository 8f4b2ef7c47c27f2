"""Inputs, interleaved step timing, FLOP counting and SDPA-backend probing for bench/throughput.py."""

from __future__ import annotations

import contextlib
import copy
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from dabs_lib.encoder import Encoder
from dabs_lib.model_config import ModelConfig
from dabs_lib.objectives import OBJECTIVES
from dabs_lib.specs import Image2dSpec, Sequence1dSpec, Spec, TabularSpec, TokensSpec
from dabs_lib.system import make_optimizer
from reference_dabs import RefEncoder, RefObjective, dabs_trunk

# input kind -> (specs, batch size): DABS's shapes (cifar10_small, ImageNet / speech / CheXpert,
# WikiText-103, PAMAP2, Higgs, MSCOCO); batch 64 everywhere, the setting, so rows compare.
INPUTS = {
    "2d64": ((Image2dSpec(32, 4, 3),), 64),
    "2d196": ((Image2dSpec(224, 16, 3),), 64),
    "tokens128": ((TokensSpec(128, 30522),), 64),
    "1d": ((Sequence1dSpec(320, 5, 52),), 64),
    "tabular": ((TabularSpec(28),), 64),
    "image+caption": ((Image2dSpec(224, 16, 3), TokensSpec(32, 30522)), 64),
}
# every input kind at 64 and 256 tokens (65 and 257 with CLS): the lengths DABS's domains use
LENGTH_INPUTS = {
    "2d-64": ((Image2dSpec(32, 4, 3),), 64),
    "2d-256": ((Image2dSpec(64, 4, 3),), 64),
    "1d-64": ((Sequence1dSpec(320, 5, 52),), 64),
    "1d-256": ((Sequence1dSpec(1280, 5, 52),), 64),
    "tokens-64": ((TokensSpec(64, 30522),), 64),
    "tokens-256": ((TokensSpec(256, 30522),), 64),
    "tabular-64": ((TabularSpec(64),), 64),
    "tabular-256": ((TabularSpec(256),), 64),
}
INPUTS.update(LENGTH_INPUTS)


def _smoke_spec(spec: Spec) -> Spec:
    """The same kind with a few tokens (twice as many for the 256-token rows)."""
    scale = 2 if spec.num_tokens >= 256 else 1
    return {
        "2d": Image2dSpec(8 * scale, 4, 3),
        "1d": Sequence1dSpec(20 * scale, 5, 3),
        "tokens": TokensSpec(6 * scale, 50),
        "tabular": TabularSpec(6 * scale),
    }[spec.kind]


SMOKE_INPUTS = {
    "2d64": ((Image2dSpec(8, 2, 3),), 4),
    "2d196": ((Image2dSpec(16, 4, 3),), 4),
    "tokens128": ((TokensSpec(12, 50),), 4),
    "1d": ((Sequence1dSpec(20, 5, 3),), 4),
    "tabular": ((TabularSpec(6),), 4),
    "image+caption": ((Image2dSpec(8, 4, 3), TokensSpec(6, 50)), 4),
    **{name: ((_smoke_spec(specs[0]),), 4) for name, (specs, _) in LENGTH_INPUTS.items()},
}
PEAK_BF16_TFLOPS = {"H100": 989.4, "H200": 989.4, "A100": 312.0}  # dense bf16 tensor-core peaks


def make_inputs(specs, batch: int, device: torch.device, seed: int = 0) -> list[torch.Tensor]:
    """Random inputs of each spec; token ids never use the pad id, so nothing is padded (as DABS)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for spec in specs:
        if spec.kind == "tokens":
            x = torch.randint(1, spec.vocab_size, (batch, spec.seq_len), generator=g)
        elif spec.kind == "1d":
            x = torch.randn(batch, spec.seq_len, spec.in_channels, generator=g)
        elif spec.kind == "2d":
            x = torch.randn(batch, spec.in_channels, spec.input_size, spec.input_size, generator=g)
        else:
            x = torch.randn(batch, spec.num_features, generator=g)
        out.append(x.to(device))
    return out


def sdpa_backend(device: torch.device) -> str:
    """The first SDPA backend that accepts an unmasked (B, 8, 65, 64) call: what the dispatcher picks."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    q = torch.randn(2, 8, 65, 64, device=device, dtype=dtype)
    for backend in (SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH):
        try:
            with sdpa_kernel([backend]), contextlib.redirect_stderr(None), _no_warnings():
                F.scaled_dot_product_attention(q, q, q)
            return backend.name.lower()
        except (RuntimeError, TypeError):
            continue
    return "unknown"


@contextlib.contextmanager
def _no_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def peak_tflops(device: torch.device, given: float) -> float:
    if given or device.type != "cuda":
        return given
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_BF16_TFLOPS.items() if key in name), 0.0)


@dataclass(frozen=True)
class Variant:
    """One way of running our step: torch.compile on the blocks, autocast precision, attention path."""

    compiled: bool = False
    precision: str = "fp32"  # "fp32" or "bf16" (autocast)
    plain_attention: bool = True  # False: SDPA always (the encoder's plain CPU path switched off)

    @property
    def label(self) -> str:
        return f"{self.precision}{', compiled' if self.compiled else ''}{'' if self.plain_attention else ', SDPA only'}"


class Ours:
    """Our objective on its own copy of the weights, with its optimizer, stepped as SSLSystem does."""

    def __init__(self, module: torch.nn.Module, variant: Variant, device: torch.device):
        self.module, self.variant, self.device = module, variant, device
        self.opt = make_optimizer([{"params": list(module.parameters()), "lr": 1e-4, "weight_decay": 1e-4}])
        for block in module.encoder.blocks:
            block.attn.plain = variant.plain_attention
            if variant.compiled:  # the blocks, where the time goes; corruption sampling stays eager
                block.compile()

    def forward(self, inputs) -> torch.Tensor:
        if self.variant.precision == "fp32":
            return self.module(inputs)[0]
        with torch.autocast(self.device.type, dtype=torch.bfloat16):
            return self.module(inputs)[0]

    def step(self, inputs) -> None:
        loss = self.forward(inputs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.module.parameters(), 1.0)  # SSLSystem clips at grad_clip 1.0
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)


class Reference:
    """The reference objective with its optimizer (AdamW, not fused), stepped at one precision:
    "fp32", "bf16" (autocast, as ours) or "dabs" (fp16 autocast + GradScaler on a GPU, fp32 on a
    CPU: how DABS ran it, the old comparison; not like with like)."""

    def __init__(self, module: torch.nn.Module, precision: str, device: torch.device):
        self.module, self.precision, self.device = module, precision, device
        self.opt = torch.optim.AdamW(module.parameters(), lr=1e-4, weight_decay=1e-4)
        fp16 = precision == "dabs" and device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda") if fp16 else None

    def _autocast(self):
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        if self.scaler is not None:
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def step(self, inputs) -> None:
        with self._autocast():
            loss = self.module(inputs)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            loss.backward()
            self.opt.step()
        self.opt.zero_grad(set_to_none=True)


class StepRunner:
    """Our training step (one or more variants, same initial weights) and the reference's on the
    same inputs, timed round by round with the order rotating every round. The reference runs at
    each variant's precision (like with like), or once as DABS did (reference_precision="dabs")."""

    def __init__(
        self,
        objective: str,
        specs,
        model: ModelConfig,
        batch: int,
        device: torch.device,
        compiled: bool = False,
        reference: bool = True,
        seed: int = 0,
        precision: str = "bf16",
        variants: tuple[Variant, ...] | None = None,
        reference_precision: str = "same",
        dabs_code: str = "",
    ):
        """dabs_code: a checkout of DABS whose own transformer blocks the reference uses (reference_dabs.dabs_trunk)."""
        torch.manual_seed(seed)
        self.device, self.batch = device, batch
        self.inputs = make_inputs(specs, batch, device, seed)
        first = OBJECTIVES[objective](Encoder(specs, model)).to(device)
        variants = variants or (Variant(compiled, precision),)
        self.ours = [Ours(first if i == 0 else copy.deepcopy(first), v, device) for i, v in enumerate(variants)]
        self.backend = sdpa_backend(device)
        self.reference_precision = reference_precision
        self.refs: dict[str, Reference] = {}
        if reference:
            dims = (model.embed_dim, model.depth, model.num_heads, model.head_dim, model.mlp_dim, model.dropout)
            trunk = dabs_trunk(dabs_code, *dims) if dabs_code else None
            ref_encoder = RefEncoder(specs, *dims, model.out_dim, trunk=trunk)
            module = RefObjective(objective, ref_encoder).to(device)
            for key in dict.fromkeys(self.ref_key(v) for v in variants):
                self.refs[key] = Reference(module if not self.refs else copy.deepcopy(module), key, device)
        self.ref = next(iter(self.refs.values())).module if self.refs else None

    def ref_key(self, variant: Variant) -> str:
        return variant.precision if self.reference_precision == "same" else "dabs"

    def ref_index(self, index: int) -> int:
        """Where the reference that variant `index` is compared with sits in steps() (and rounds)."""
        return len(self.ours) + list(self.refs).index(self.ref_key(self.ours[index].variant))

    def _ours_forward(self, inputs):
        return self.ours[0].forward(inputs)

    def ours_once(self) -> None:
        self.ours[0].step(self.inputs)

    def ref_once(self, key: str | None = None) -> None:
        self.refs[key or next(iter(self.refs))].step(self.inputs)

    def timed(self, step) -> float:
        start = _now(self.device)
        step()
        return _now(self.device) - start

    def steps(self) -> list:
        """Every variant's step, then the reference's (when there is one)."""
        out = [lambda o=o: o.step(self.inputs) for o in self.ours]
        return out + [lambda r=r: r.step(self.inputs) for r in self.refs.values()]

    def rounds(self, count: int) -> list[list[float]]:
        """Seconds per step, one list per round in steps() order, after one warm-up step each;
        round i starts at step i mod n, so no step always runs first (or after the same one)."""
        steps = self.steps()
        for step in steps:
            step()
        out = []
        for i in range(count):
            seconds = [0.0] * len(steps)
            for j in range(len(steps)):
                k = (i + j) % len(steps)
                seconds[k] = self.timed(steps[k])
            out.append(seconds)
        return out

    def interleaved(self, pairs: int) -> list[tuple[float, float]]:
        """(our seconds, reference seconds) per round for the first variant (NaN without a reference)."""
        return [(r[0], r[self.ref_index(0)] if self.refs else float("nan")) for r in self.rounds(pairs)]

    def peak_rss_mb(self, step) -> float:
        """The process's resident high-water mark over one step, reset just before it (Linux)."""
        reset_peak_rss()
        step()
        return peak_rss_mb()


def reset_peak_rss() -> bool:
    """Reset the process's VmHWM (Linux: clear_refs 5); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """VmHWM of this process in MiB (since the last reset), else getrusage's lifetime maximum."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _now(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        return time.perf_counter()
    return time.process_time()  # CPU time of every thread: less sensitive to the shared machine's load


def count_flops(runner: StepRunner, index: int = 0) -> int:
    """Model FLOPs of one training step of variant `index` (forward + backward), as torch counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    ours = runner.ours[index]
    counter = FlopCounterMode(display=False)
    with counter:
        loss = ours.forward(runner.inputs)
        loss.backward()
    ours.opt.zero_grad(set_to_none=True)
    return counter.get_total_flops()
