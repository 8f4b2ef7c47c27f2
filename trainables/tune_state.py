"""Tune's trial table, cut to the trials a resume continues while it runs.

Tune snapshots every trial of the run into one `experiment_state-*.json` (about 15 KB a
trial), and `Tuner.restore` rebuilds a Trial object for each, builds an ExperimentAnalysis of
them all (every trial's result.json read into a frame) once when it restores and once when the
run ends, and rewrites the whole table at every snapshot: a resume's time grew with every trial
the experiment had ever run (81.8 s at 5k trials, BENCHMARKS.md). A finished (TERMINATED) trial
is one Tune skips on resume, and nothing of ours reads it from that table (the searcher, the
outcome, `status` and the analysis read the journal and the trial folders; the progress lines
keep their own ledger). So before `Tuner.restore`, `set_aside` moves the finished trials'
entries to `tune_settled_trials.json` beside the table; when the run ends, `put_back` merges
them into Tune's final table, so Ray's own `ExperimentAnalysis` of the experiment sees every
trial again, and removes the file.

A kill at any moment loses nothing: the set-aside file is written (atomically) before the table
is cut and removed only after the merged table is in place, and entries are keyed by trial id,
so a kill between two steps leaves at most an entry in both places, which the next step merges.
Local experiments only (a storage URI keeps Tune's whole table, as before).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dabs_lib.experiment import SETTLED_TRIALS, read_tune_state
from dabs_lib.safe_io import kill_point, write_json

FINISHED = "TERMINATED"  # Tune's status of a trial that ended; ResumeConfig skips it on resume
Entry = list[Any]  # one row of Tune's `trial_data`: [trial JSON state, run metadata JSON]


def _fields(entry: Entry) -> dict[str, Any]:
    fields = json.loads(entry[0])
    return fields if isinstance(fields, dict) else {}


def _by_id(entries: list[Entry]) -> dict[str, Entry]:
    return {str(_fields(entry).get("trial_id")): entry for entry in entries}


def _settled(folder: Path) -> list[Entry]:
    path = folder / SETTLED_TRIALS
    return json.loads(path.read_bytes())["trial_data"] if path.is_file() else []


def set_aside(folder: str | os.PathLike[str]) -> int:
    """Move the finished trials' entries out of Tune's newest table into SETTLED_TRIALS (merged
    with what an earlier, interrupted resume set aside). Returns how many Tune will not load.
    One finished trial stays when no other would (Tune restores its folders from a trial)."""
    folder = Path(folder)
    state = read_tune_state(folder)
    if state.problem or state.path is None or state.table is None:
        return 0
    table = state.table
    finished: dict[str, Entry] = {}  # trial id -> entry; each entry's JSON parsed once
    live: list[Entry] = []
    for entry in table["trial_data"]:
        fields = _fields(entry)
        if fields.get("status") == FINISHED:
            finished[str(fields.get("trial_id"))] = entry
        else:
            live.append(entry)
    if not finished:
        return 0
    settled = {**_by_id(_settled(folder)), **finished}
    write_json(folder / SETTLED_TRIALS, {"trial_data": list(settled.values())}, indent=None)
    kill_point("settled-aside")  # test-only: set aside, the table not yet cut
    kept = live or list(finished.values())[-1:]
    write_json(state.path, {**table, "trial_data": kept}, indent=None)
    return len(finished) - (len(kept) - len(live))


def put_back(folder: str | os.PathLike[str]) -> int:
    """Merge the set-aside entries into Tune's newest table (its own entry of a trial wins) and
    remove SETTLED_TRIALS. Returns how many entries were merged back."""
    folder = Path(folder)
    aside = folder / SETTLED_TRIALS
    if not aside.is_file():
        return 0
    state = read_tune_state(folder)
    if state.problem or state.path is None or state.table is None:
        return 0  # kept for the next resume, which reads it with whatever table Tune writes
    table = state.table
    present = _by_id(table["trial_data"])
    missing = [entry for trial_id, entry in _by_id(_settled(folder)).items() if trial_id not in present]
    write_json(state.path, {**table, "trial_data": table["trial_data"] + missing}, indent=None)
    kill_point("settled-put-back")  # test-only: merged, the set-aside file not yet removed
    aside.unlink()
    return len(missing)
