"""The model folder's names and its error, without torch: what finds and lists model folders
(`dabs-tune models`, the CLI's parser) imports this; dabs_lib.model_folder reads and writes them."""

from __future__ import annotations

import os

FORMAT = "dabs-tune-encoder"  # config.json's `format`: marks a folder as one of ours
FORMAT_VERSION = 1  # bump when config.json or the tensors' names change meaning
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "README.md"


class ModelFolderError(ValueError):
    """A model folder that cannot be loaded: says what must hold, what was found and where."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")

    def __reduce__(self) -> tuple[type[ModelFolderError], tuple[str, str]]:
        # crosses processes (Ray workers, multiprocessing): rebuild from the same arguments
        return type(self), (self.path, self.problem)
