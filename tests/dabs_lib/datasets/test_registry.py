"""Every real domain, built (smoke) from miniature files, against the spec it declares."""

import inspect
import subprocess
import sys

import numpy as np
import pytest
import torch

from dabs_lib.datasets import REAL_DOMAINS, all_sources, dataset_status, domain_sources, fetch
from dabs_lib.domains.base import METRIC_DIRECTIONS, TASK_KINDS
from dabs_lib.embeddings import MultiEmbedding
from tests.dabs_lib.datasets import miniature as mini
from tests.dabs_lib.datasets import miniature_media as media
from tests.dabs_lib.datasets import miniature_more as more

WRITERS = {
    "chexpert": (media.write_chexpert,),
    "cifar10": (mini.write_cifar, media.write_imagenet),
    "cifar10_small": (mini.write_cifar,),
    "eurosat": (more.write_eurosat,),
    "genomics": (mini.write_genomics,),
    "higgs": (mini.write_higgs,),
    "librispeech": (lambda root: media.write_librispeech(root, dev_utts=3),),
    "mscoco": (more.write_mscoco, more.write_vqa),
    "pamap2": (mini.write_pamap2,),
    "pawsx": (more.write_mc4, more.write_pawsx),
    "proteins": (more.write_proteins,),
    "wikitext103": (mini.write_wikitext, mini.write_glue),
    "wm811k": (more.write_wm811k,),
}


def test_every_real_domain_has_a_writer_and_the_builder_signature():
    assert set(WRITERS) == set(REAL_DOMAINS)
    for build in REAL_DOMAINS.values():
        params = inspect.signature(build).parameters
        assert [(p, params[p].default) for p in params] == [("seed", 42), ("data_root", ""), ("smoke", False)]


def test_importing_the_package_loads_no_loader():
    code = (
        "import sys, dabs_lib.datasets as d; assert 'dabs_lib.domains' not in sys.modules; "
        "assert 'dabs_lib.datasets.cifar' not in sys.modules; print(len(d.REAL_DOMAINS))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(len(REAL_DOMAINS))


def _check_item(specs, item, task=None):
    inputs, label = item
    assert isinstance(inputs, tuple) and len(inputs) == len(specs)
    batch = [x.unsqueeze(0) for x in inputs]
    tokens, mask = MultiEmbedding(specs, 8)(batch)
    assert tokens.shape == (1, sum(s.num_tokens for s in specs), 8) and mask.shape == tokens.shape[:2]
    if task is None:
        return
    if task.kind in ("multiclass", "binary"):
        assert label.dtype == torch.int64 and label.dim() == 0
        assert 0 <= int(label) < max(task.num_classes, 2)
    elif task.kind == "multilabel":
        assert label.dtype == torch.float32 and label.shape == (task.num_classes,)
    elif task.kind == "regression":
        assert label.dtype == torch.float32 and label.dim() == 0


@pytest.mark.parametrize("name", sorted(REAL_DOMAINS))
def test_real_domain_smoke_build(tmp_path, name):
    present, how = dataset_status(name, str(tmp_path))
    assert not present and "[required]" in how and str(tmp_path) in how
    for writer in WRITERS[name]:
        writer(tmp_path)
    present, how = dataset_status(name, str(tmp_path))
    assert present and "[required]" not in how
    domain = REAL_DOMAINS[name](seed=42, data_root=str(tmp_path), smoke=True)
    assert len(domain.pretrain) > 0 and domain.default_task in domain.tasks
    _check_item(domain.specs, domain.pretrain[0])
    for task in domain.tasks.values():
        assert task.kind in TASK_KINDS and task.metric in METRIC_DIRECTIONS
        for split in (task.train, task.val, task.test):
            assert len(split) > 0, (task.name, split.name)
            _check_item(domain.specs, split[len(split) - 1], task)
        assert not set(task.train.rows.tolist()) & set(task.val.rows.tolist())
    again = REAL_DOMAINS[name](seed=42, data_root=str(tmp_path), smoke=True)
    assert again.pretrain.fingerprint == domain.pretrain.fingerprint
    first = next(iter(domain.tasks))
    assert np.array_equal(again.tasks[first].val.rows, domain.tasks[first].val.rows)


def test_sources_and_download_of_manual_sets(tmp_path):
    sources = all_sources()
    assert {"cifar10", "pamap2", "chexpert", "glue", "librispeech"} <= set(sources)
    required, optional = domain_sources("librispeech")
    assert [s.name for s in required] == ["librispeech"] and "audio_mnist" in [s.name for s in optional]
    manual = fetch("chexpert", str(tmp_path), progress=False)  # nothing downloadable: only instructions
    assert len(manual) == 2 and "stanfordmlgroup" in manual[0]
    with pytest.raises(KeyError, match="unknown real domain or dataset 'nope'"):
        dataset_status("nope", str(tmp_path))
