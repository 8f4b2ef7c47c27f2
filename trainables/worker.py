"""What every trial report says about where it ran: the Ray node, the GPUs Ray gave it (and
whether its process can use them), and the warnings its code logged."""

from __future__ import annotations

import functools
import logging
import os

import ray

from dabs_lib import trial_warnings

NODE_ID = "node_id"  # the Ray node of the trial (several nodes may share one host and IP)
GPU_IDS = "gpu_ids"  # the GPU ids Ray assigned the trial ("0" or "0,1"), absent without a GPU share
CUDA_VISIBLE = "cuda_visible_devices"  # what Ray set CUDA_VISIBLE_DEVICES to in the trial's process
GPU_UNUSABLE = "gpu_unusable"  # why a trial given GPUs trains on the CPU; absent when it can use them


def start_trial() -> None:
    """At a trial's start, in its worker: collect dabs_lib's warnings for the reports."""
    trial_warnings.capture()


def assigned_gpus() -> dict[str, str]:
    """{GPU_IDS, CUDA_VISIBLE} of this trial when Ray gave it a GPU share (fractional included), else {}."""
    ids = ray.get_gpu_ids()
    if not ids:
        return {}
    return {GPU_IDS: ",".join(str(i) for i in ids), CUDA_VISIBLE: os.environ.get("CUDA_VISIBLE_DEVICES", "")}


@functools.lru_cache(maxsize=1)
def torch_cuda_usable() -> bool:
    """Whether torch in this process finds a CUDA device (what Lightning's accelerator follows)."""
    import torch

    return torch.cuda.is_available()


def gpu_extras() -> dict[str, str]:
    """assigned_gpus(), plus GPU_UNUSABLE and a warning (once per process) when Ray gave the trial
    GPUs its process cannot use: it would otherwise train on the CPU without a word."""
    out = assigned_gpus()
    if out and not torch_cuda_usable():
        out[GPU_UNUSABLE] = (
            f"Ray assigned GPU {out[GPU_IDS]} (CUDA_VISIBLE_DEVICES={out[CUDA_VISIBLE]!r}) but "
            "torch in this trial's process finds no usable CUDA device, so it trains on the CPU; "
            "check the node's driver and that torch was built with CUDA"
        )
        trial_warnings.capture()
        logging.getLogger(trial_warnings.LOGGER).warning(out[GPU_UNUSABLE])
    return out


def report_extras() -> dict[str, str]:
    return {NODE_ID: ray.get_runtime_context().get_node_id(), **gpu_extras(), **trial_warnings.drain()}
