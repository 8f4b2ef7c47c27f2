"""`captions`: synthetic captioned images (shapes and colours) and DABS's mismatched-caption task.

Inputs: an RGB image Image2dSpec(input_size=16, patch_size=4, in_channels=3) -> 16 tokens,
then a caption TokensSpec(seq_len=8, vocab_size=16, pad_id=0) -> 8 tokens.

Scene: a background of N(0.15, 0.05^2) grey noise and one or two objects. Each object is a
shape (square, disk, triangle, cross) of side 5..7 px in a colour (red, green, blue, yellow,
magenta) whose RGB is scaled by U(0.75, 1); pixel noise N(0, 0.08^2) on top. Layouts, each a
third of the scenes: one object anywhere, caption "a <colour> <shape>" (3 words); two objects
side by side (left and right halves), caption "a c1 s1 left of a c2 s2" or, at random, the
same relation read from the other object "a c2 s2 right of a c1 s1" (8 words); two objects
stacked, "a c1 s1 above a c2 s2" or "a c2 s2 below a c1 s1" (7 words). Captions are
right-padded with 0. The two objects of a scene never share both colour and shape.
Every word of a caption names a property of the image it belongs to, so telling whether a
caption is the image's own needs the pairing of caption words with image regions.
Images are z-scored per channel with the pretraining split's statistics.

What pretraining finds (measured; embed 64, depth 4, 400 steps, lr 1e-3, training seeds 0
and 1): a random-init encoder's probe stays at chance (0.48-0.49); masked prediction, which
must guess masked caption words from the image, reaches 0.69-0.70. ShED, Capri and e-Mix
stay at chance on this budget: only an objective that predicts one input from the other
learns the pairing, which matches DABS's own finding that its objectives do not help on
MSCOCO -> VQA.

Sizes (full): pretraining 2,000 matched pairs (train + 1,000 extra, unlabelled); task
`mismatched` (binary, num_classes 1, accuracy): label 1 when the caption was replaced by the
caption of another scene of the same split (always a different word sequence), 0 when it is
the scene's own; exactly half of each split is replaced, chosen at random. 1,000 train /
200 val / 400 test. Pretraining rows keep their own captions. smoke: 160 (96 + 64), 32, 48.
"""

from __future__ import annotations

import numpy as np
import torch

from dabs_lib.domains.base import Domain, TensorSplit, TransferTask
from dabs_lib.domains.splits import SplitIndex, SplitSizes, make_split, random_split, seeded_rng, standardize
from dabs_lib.specs import Image2dSpec, TokensSpec

SIZE = 16
COLOURS = {
    "red": (1.0, 0.1, 0.1),
    "green": (0.1, 0.9, 0.1),
    "blue": (0.15, 0.25, 1.0),
    "yellow": (1.0, 0.9, 0.1),
    "magenta": (0.9, 0.1, 0.9),
}
SHAPES = ("square", "disk", "triangle", "cross")
RELATIONS = ("left", "right", "of", "above", "below")
VOCAB = ("<pad>", "a", *COLOURS, *SHAPES, *RELATIONS)  # id = position; 0 is padding
WORD_ID = {word: i for i, word in enumerate(VOCAB)}
CAPTION_LEN = 8
IMAGE_SPEC = Image2dSpec(input_size=SIZE, patch_size=4, in_channels=3)
CAPTION_SPEC = TokensSpec(seq_len=CAPTION_LEN, vocab_size=len(VOCAB), pad_id=0)
FULL = SplitSizes(train=1000, val=200, test=400, extra=1000)
SMOKE = SplitSizes(train=96, val=32, test=48, extra=64)
HALF = SIZE // 2
# layout -> (box of each object as (top, left, height, width), relation read from the first
# object, relation read from the second); a scene picks one of the three uniformly
LAYOUTS = (
    (((0, 0, SIZE, SIZE),), None, None),
    (((0, 0, SIZE, HALF), (0, HALF, SIZE, HALF)), ["left", "of"], ["right", "of"]),
    (((0, 0, HALF, SIZE), (HALF, 0, HALF, SIZE)), ["above"], ["below"]),
)


def shape_mask(shape: str, side: int) -> np.ndarray:
    """(side, side) bool pixels of a shape."""
    yy, xx = np.mgrid[:side, :side]
    centre = (side - 1) / 2
    if shape == "square":
        return np.ones((side, side), dtype=bool)
    if shape == "disk":
        return (yy - centre) ** 2 + (xx - centre) ** 2 <= (side / 2) ** 2
    if shape == "triangle":  # apex up: row y spans |x - centre| <= (y + 1) / 2
        return np.abs(xx - centre) <= (yy + 1) / 2
    return (np.abs(yy - centre) < side / 6 + 0.5) | (np.abs(xx - centre) < side / 6 + 0.5)  # cross


def _paint(
    image: np.ndarray, colour: int, shape: int, box: tuple[int, int, int, int], rng: np.random.Generator
) -> None:
    """Draw one object at a random place inside box = (top, left, height, width), in place."""
    side = int(rng.integers(5, 8))
    top = box[0] + int(rng.integers(0, box[2] - side + 1))
    left = box[1] + int(rng.integers(0, box[3] - side + 1))
    rgb = np.array(list(COLOURS.values())[colour]) * rng.uniform(0.75, 1.0)
    mask = shape_mask(SHAPES[shape], side)
    image[:, top : top + side, left : left + side][:, mask] = rgb[:, None]


def _caption(words: list[str]) -> np.ndarray:
    ids = np.zeros(CAPTION_LEN, dtype=np.int64)
    ids[: len(words)] = [WORD_ID[w] for w in words]
    return ids


def _objects(count: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """`count` (colour, shape) pairs, never two equal ones."""
    objects: list[tuple[int, int]] = []
    while len(objects) < count:
        drawn = (int(rng.integers(len(COLOURS))), int(rng.integers(len(SHAPES))))
        if drawn not in objects:
            objects.append(drawn)
    return objects


def _scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One (3, SIZE, SIZE) image and its (CAPTION_LEN,) caption."""
    image = rng.normal(0.15, 0.05, size=(3, SIZE, SIZE))
    boxes, forward, backward = LAYOUTS[int(rng.integers(len(LAYOUTS)))]
    objects = _objects(len(boxes), rng)
    phrases = [["a", list(COLOURS)[colour], SHAPES[shape]] for colour, shape in objects]
    for (colour, shape), box in zip(objects, boxes):
        _paint(image, colour, shape, box, rng)
    if len(objects) == 1:
        words = phrases[0]
    elif rng.random() < 0.5:
        words = phrases[0] + forward + phrases[1]
    else:
        words = phrases[1] + backward + phrases[0]
    image += rng.normal(0, 0.08, size=image.shape)
    return image.astype(np.float32), _caption(words)


def generate(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3, SIZE, SIZE) images (before z-scoring) and (N, CAPTION_LEN) their own captions."""
    rng = seeded_rng(seed, "captions/scenes")
    scenes = [_scene(rng) for _ in range(count)]
    return torch.from_numpy(np.stack([s[0] for s in scenes])), torch.from_numpy(np.stack([s[1] for s in scenes]))


def mismatch(captions: torch.Tensor, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace a random half of the captions by another row's different caption; (captions, labels)."""
    n = len(captions)
    labels = np.zeros(n, dtype=np.int64)
    labels[rng.permutation(n)[: n // 2]] = 1
    out = captions.clone()
    for row in np.flatnonzero(labels):
        donor = int(rng.integers(n))
        while torch.equal(captions[donor], captions[row]):
            donor = int(rng.integers(n))
        out[row] = captions[donor]
    return out, torch.from_numpy(labels)


def _task(images: torch.Tensor, captions: torch.Tensor, index: SplitIndex, seed: int) -> TransferTask:
    splits = {}
    for part in ("train", "val", "test"):
        rows = torch.as_tensor(getattr(index, part))
        shown, labels = mismatch(captions[rows], seeded_rng(seed, f"captions/mismatch/{part}"))
        splits[part] = TensorSplit((images[rows], shown), labels, f"captions/mismatched/{part}")
    return TransferTask(name="mismatched", kind="binary", metric="accuracy", num_classes=1, **splits)


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """The synthetic image+caption domain; `data_root` is ignored."""
    sizes = SMOKE if smoke else FULL
    index = random_split(sizes, seed, "captions")
    raw, captions = generate(sizes.total, seed)
    images = standardize(raw, raw[torch.as_tensor(index.pretrain)], dims=(0, 2, 3))
    return Domain(
        name="captions",
        specs=(IMAGE_SPEC, CAPTION_SPEC),
        pretrain=make_split((images, captions), None, index.pretrain, "captions/pretrain"),
        tasks={"mismatched": _task(images, captions, index, seed)},
        supervised_task="mismatched",
        batch_size=32 if smoke else 64,  # DABS uses 64 for captioned images
    )
