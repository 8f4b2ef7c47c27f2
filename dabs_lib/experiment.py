"""The experiment on disk: the one owner of its layout, names and manifest. No Ray, no torch.

    runs/<experiment>/
      search.json                    the manifest: kind, request, status of the experiment and of every study
      optuna.journal                 every study of the experiment (Optuna JournalStorage, file backend)
      <domain>_<objective>_NNN/      one Tune trial: NNN is its study's trial number; 000 is the DABS default
      tuner.pkl, experiment_state-*.json, searcher-state-*.pkl   Tune's own state (what `resume` restores)
      tune_settled_trials.json       only while a resumed run goes on: Tune's entries of its finished
                                     trials, set aside from experiment_state (trainables/tune_state.py)

Every writer and reader (the search engine, `resume`, `analyze`, `export`, `list`, the probe
search) goes through this module: it spells the file names, the study and trial names, the
metric names and the mapping from trial settings to the probe protocol once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from dabs_lib.probe_path import L2_MAX, L2_MIN, L2_STEPS
from dabs_lib.settings_rules import check_fields

if TYPE_CHECKING:  # optuna and torch: imported where a study or a protocol is made
    import optuna

    from dabs_lib.transfer.protocol import ProbeProtocol

MANIFEST = "search.json"
JOURNAL = "optuna.journal"
FORMAT = 2  # manifest format: 2 = one Tune run and one journal per experiment
KINDS = ("search", "probe")  # what wrote the experiment; only a search can be resumed

METRIC = "transfer/val"  # the scheduler's and the sampler's score (higher is better)
FINAL = "final"  # true on the report of a trial that reached its full budget
STEP = "step"
SECONDS = "seconds"  # wall seconds of the trial so far (across restores)
PROBE_SECONDS = "probe_seconds"  # wall seconds of this report's in-search probe (featurize + L2 path)
PARAMS = "params"
TEST_PREFIX = "test/"
VAL_PREFIX = "val/"
BASELINE = "none"  # the random-init objective: one trial per domain, no search
SHARED = "shared"  # the cross-domain study's pseudo-domain: study `shared-<objective>` (search --shared-config)
ERROR_ATTR = "error"  # Optuna user attribute of a FAIL trial: why it failed (one line)
STUDY_ATTRS = ("domain", "objective")  # Optuna user attributes of every study (and of its trials)
FOLDER_ATTR = "trial_folder"  # Optuna user attribute of a trial: its folder in the experiment
TUNE_ID_ATTR = "tune_trial_id"  # Optuna user attribute of a trial: Ray Tune's trial id
WARM_ATTR = "warm_start"  # Optuna user attribute of a trial enqueued by --warm-start (true)

# The record every trial reports to Tune (and Tune writes to result.json/progress.csv): the fixed keys.
# Keys are the metric names above (a TypedDict needs literal keys; tests/dabs_lib/test_interfaces.py
# checks that they stay equal). Besides these, a report carries `val/<task>` and `test/<task>`
# scores, the objective's own `<objective>/<metric>` logs and Tune's bookkeeping.
TrialReport = TypedDict(
    "TrialReport",
    {"transfer/val": float, "step": int, "seconds": float, "probe_seconds": float, "params": int, "final": bool},
    total=False,
)
REPORT_KEYS = (METRIC, STEP, SECONDS, PROBE_SECONDS, PARAMS, FINAL)  # the fixed keys of a TrialReport

TRAINER_CKPT = "trainer.ckpt"  # inside a trial checkpoint: Lightning's trainer state
STATE_FILE = "trial_state.json"  # inside a trial checkpoint: seconds and step so far
ENCODER_FILE = "encoder.pt"  # inside a trial checkpoint: the encoder weights

STUDY_STATUSES = ("pending", "running", "finished", "failed")  # failed: every trial errored
NAME_RULE = "one folder name (no '/', '\\\\', '..' or leading '.')"


@dataclass(frozen=True)
class TrialSettings:
    """Trial-level keys of a flat trial config: the trainable reads them, dabs_lib's
    PretrainConfig never sees them (split by trainables.settings.split_trial_config)."""

    eval_every: int = 100  # optimizer steps between validation probes (= Tune iterations)
    l2_min: float = L2_MIN  # smallest L2 strength on the probe's path (dabs_lib.probe_path: fixed, never searched)
    l2_max: float = L2_MAX  # largest L2 strength on the path
    l2_steps: int = L2_STEPS  # strengths on the path (log-spaced, warm-started from the largest)
    finetune_lr: float = 1e-4  # probe trainable: fine-tuning learning rate
    finetune_weight_decay: float = 1e-4  # probe trainable: fine-tuning weight decay
    finetune_epochs: int = 5  # probe trainable: fine-tuning epochs
    checkpoint: str = ""  # probe trainable: the encoder checkpoint to evaluate
    trial_number: int = 0  # the trial's number in its Optuna study; names the trial folder
    study: str = ""  # the trial's study, `<domain>-<objective>`: routes results and early stopping

    def __post_init__(self) -> None:
        check_fields(self)  # bounds: dabs_lib.settings_rules


TRIAL_KEYS = tuple(f.name for f in fields(TrialSettings))
TRIAL_NUMBER = "trial_number"
STUDY = "study"
assert TRIAL_NUMBER in TRIAL_KEYS and STUDY in TRIAL_KEYS
BOOKKEEPING_PARAMS = (TRIAL_NUMBER, STUDY)  # set by the searcher to name and route a trial; not settings


TUNER_STATE = "tuner.pkl"  # Tune's own snapshot of the run; written after Ray starts, before trials report
EXPERIMENT_STATE = "experiment_state-*.json"  # Tune's trial table, rewritten as the run goes


SETTLED_TRIALS = "tune_settled_trials.json"  # Tune's finished trials, set aside while a resume runs


@dataclass
class TuneState:
    """Tune's newest trial table in an experiment folder: `problem` is '' when Tune can restore
    the run, else which file is missing or damaged; `path` and `table` are None without one."""

    problem: str = ""
    path: Path | None = None
    table: dict[str, Any] | None = None


def read_tune_state(folder: str | Path) -> TuneState:
    """Tune's state in `folder`, checked: tuner.pkl present and not empty, the newest
    experiment_state-*.json (Tune restores from the newest name) parsed."""
    import json

    folder = Path(folder)
    tuner = folder / TUNER_STATE
    if not tuner.is_file():
        return TuneState(f"{tuner} is missing (the search stopped before Tune's first snapshot)")
    if tuner.stat().st_size == 0:
        return TuneState(f"{tuner} is damaged (empty)")
    states = sorted(folder.glob(EXPERIMENT_STATE))
    if not states:
        return TuneState()  # Tune restores from tuner.pkl alone (its trials start over)
    try:
        return TuneState("", states[-1], json.loads(states[-1].read_bytes()))
    except (OSError, ValueError) as error:
        return TuneState(
            f"{states[-1]} is damaged ({str(error).splitlines()[0] if str(error) else type(error).__name__})"
        )


def tune_state_problem(folder: str | Path) -> str:
    """'' when Tune's state in `folder` can be restored; else which file is missing or damaged."""
    return read_tune_state(folder).problem


def probe_protocol(settings: TrialSettings, kind: str = "linear", smoke_test: bool = False) -> ProbeProtocol:
    """The transfer protocol a trial's settings stand for (frozen linear probe, or fine-tuning)."""
    from dabs_lib.transfer import ProbeProtocol  # torch: only the trainables pay for it

    if kind == "finetune":
        return ProbeProtocol(
            kind="finetune",
            finetune_lr=settings.finetune_lr,
            finetune_weight_decay=settings.finetune_weight_decay,
            finetune_epochs=1 if smoke_test else settings.finetune_epochs,
        )
    return ProbeProtocol(l2_min=settings.l2_min, l2_max=settings.l2_max, l2_steps=settings.l2_steps)


def study_name(domain: str, objective: str) -> str:
    """The Optuna study of one (domain, objective) pair: `<domain>-<objective>`."""
    return f"{domain}-{objective}"


def split_study(name: str) -> tuple[str, str]:
    """`<domain>-<objective>` -> (domain, objective); objectives never hold a '-'."""
    domain, _, objective = name.rpartition("-")
    return domain, objective


def shared_study_name(objective: str) -> str:
    """The cross-domain study of one objective: `shared-<objective>`; one trial = one config on every domain."""
    return study_name(SHARED, objective)


def is_shared(study: str) -> bool:
    return split_study(study)[0] == SHARED


def trial_name(domain: str, objective: str, number: int, shared: bool = False) -> str:
    """A trial's folder: `<domain>_<objective>_NNN`, NNN its number in its study; a cross-domain
    study's trial on one domain: `<domain>_shared-<objective>_NNN` (NNN: the shared trial's number)."""
    middle = shared_study_name(objective) if shared else objective
    return f"{domain}_{middle}_{int(number):03d}"


def parse_trial_name(name: str) -> tuple[str, str, int]:
    """A trial folder's name -> (domain, study, trial number): the inverse of trial_name."""
    domain, middle, number = (name.rsplit("_", 2) + ["", "", "0"])[:3]
    study = middle if is_shared(middle) else study_name(domain, middle)
    return domain, study, int(number) if number.isdigit() else 0


def journal_path(experiment: str | Path) -> Path:
    return Path(experiment) / JOURNAL


def check_name(name: str, flag: str = "--name") -> str:
    """An experiment name is one path component, so the experiment stays under --storage-path."""
    bad = not name or name in (".", "..") or name.startswith(".") or "/" in name or "\\" in name or "\0" in name
    if bad:
        raise ValueError(f"{flag} must be {NAME_RULE}, but got {name!r}")
    return name


FAILURE_HEADER = r"^Failure # \d+ \(occurred at [^)]*\)\s*$"  # Ray's header of each failure in error.txt


def retries(text: str, errored: bool) -> int:
    """How many times a trial was restarted from its last checkpoint after an error (a dead
    worker, an exception): the failures in its error.txt, less the last one if it stayed errored."""
    failures = len(re.findall(FAILURE_HEADER, text or "", flags=re.M))
    return max(failures - 1, 0) if errored else failures


MEMORY_KILL = "killed due to the node running low on memory"  # in Ray's OutOfMemoryError message


def error_line(text: str) -> str:
    """The line that says what went wrong in an error.txt: the last failure's last line
    (Ray writes "Failure # N (occurred at ...)" and then the traceback), or, when Ray's memory
    monitor killed the worker, the line that says so (its message ends with a docs link)."""
    blocks = re.split(FAILURE_HEADER, text or "", flags=re.M)
    lines = [ln.strip() for ln in blocks[-1].splitlines() if ln.strip()]
    killed = [ln for ln in lines if MEMORY_KILL in ln]
    if killed:
        said = killed[0].removeprefix("ray.exceptions.OutOfMemoryError: ").rstrip(".")
        return f"{said}; free memory or lower --max-concurrent"
    return lines[-1] if lines else ""


class ExperimentError(ValueError):
    """The folder is not a readable dabs-tune experiment (or not the kind asked for)."""


@dataclass(frozen=True)
class Study:
    domain: str
    objective: str
    status: str = "pending"
    trials: int = 0  # trials planned (1 for a baseline)

    @property
    def name(self) -> str:
        return study_name(self.domain, self.objective)


@dataclass(frozen=True)
class Manifest:
    kind: str  # one of KINDS
    request: dict[str, Any]
    studies: tuple[Study, ...]
    status: str = "running"  # running | finished | interrupted | failed
    errors: tuple[str, ...] = field(default=())  # error lines of trials that stayed errored

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "kind": self.kind,
            "status": self.status,
            "journal": JOURNAL,
            "request": self.request,
            "errors": list(self.errors),
            "studies": [
                {"domain": s.domain, "objective": s.objective, "name": s.name, "status": s.status, "trials": s.trials}
                for s in self.studies
            ],
        }

    def study(self, domain: str, objective: str) -> Study | None:
        return next((s for s in self.studies if (s.domain, s.objective) == (domain, objective)), None)


def parse_manifest(data: Any, where: str) -> Manifest:
    """The manifest from its JSON, or ExperimentError naming what is wrong and where."""
    try:
        if data.get("format") != FORMAT:
            raise ExperimentError(
                f"{where} was written by an older dabs-tune (manifest format "
                f"{data.get('format', 1)}, this version reads {FORMAT}); re-run the search"
            )
        if data["kind"] not in KINDS:
            raise ExperimentError(f"{where}: kind must be one of {KINDS}, but got {data['kind']!r}")
        studies = tuple(
            Study(s["domain"], s["objective"], s.get("status", "pending"), int(s.get("trials", 0)))
            for s in data["studies"]
        )
        return Manifest(
            data["kind"],
            dict(data.get("request", {})),
            studies,
            data.get("status", "running"),
            tuple(data.get("errors", ())),
        )
    except ExperimentError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise ExperimentError(f"{where} is unreadable: {type(error).__name__}: {error}") from None


def read_manifest(experiment: str | Path) -> Manifest:
    """A local experiment's manifest, or ExperimentError."""
    path = Path(experiment) / MANIFEST
    if not path.is_file():
        raise ExperimentError(f"{experiment} is not a dabs-tune experiment (no {MANIFEST})")
    from dabs_lib.safe_io import CorruptFileError, read_json

    try:
        data = read_json(
            path,
            "Restore it from a copy of the experiment; its trial folders are intact.",
            "the experiment's manifest as JSON",
        )
    except CorruptFileError as error:  # names the file and what to do (0 bytes after a full disk, cut)
        raise ExperimentError(str(error)) from None
    except OSError as error:
        raise ExperimentError(f"{path} is unreadable: {error}") from None
    return parse_manifest(data, str(path))


JOURNAL_FIX = (
    "Restore it from a copy of the experiment (Optuna cannot read it, and a resume would "
    "record the trials wrongly); the trial folders are intact"
)


def check_journal(experiment: str | Path) -> int:
    """Every complete line of the journal must be an Optuna log entry, or CorruptFileError names
    the file and the line (Optuna would fail without a file name, or skip a bad last line and then
    break on the next append). Returns the bytes up to the last complete line: a cut last line is
    an append a kill or a full disk interrupted, which Optuna never applied."""
    import json

    from dabs_lib.safe_io import CorruptFileError

    path = journal_path(experiment)
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    for number, line in enumerate(data[:end].split(b"\n")[:-1], 1):
        try:
            entry = json.loads(line)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            entry = None
        if not isinstance(entry, dict) or "op_code" not in entry:
            raise CorruptFileError(
                path,
                f"line {number} must be an Optuna journal entry (a JSON object with "
                f"op_code), but it starts {line[:24]!r}",
                JOURNAL_FIX,
            )
    return end


def open_storage(experiment: str | Path) -> optuna.storages.JournalStorage:
    """The experiment's Optuna storage (read and write), for Optuna's own tools too:
    `optuna.load_study(study_name="digits-emix", storage=open_storage("runs/x"))`.
    A corrupt journal raises CorruptFileError (check_journal)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    path = journal_path(experiment)
    if not path.is_file():
        raise ExperimentError(f"{experiment} has no {JOURNAL}: no study was started")
    check_journal(experiment)
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def drop_cut_line(experiment: str | Path) -> int:
    """Before a resume appends to the journal: remove a cut last line (check_journal), so the next
    entry starts on a line of its own instead of gluing onto it. Returns the bytes removed."""
    import os

    path = journal_path(experiment)
    if not path.is_file():
        return 0
    end, size = check_journal(experiment), path.stat().st_size
    if end < size:
        os.truncate(path, end)
    return size - end


def check_journal_holds(experiment: str | Path) -> None:
    """Before a resume: the journal must hold every trial that has a folder (a trial is written to
    the journal before Tune makes its folder), else it was cut or replaced: CorruptFileError."""
    from dabs_lib.safe_io import CorruptFileError

    folders = [p.name for p in Path(experiment).glob("*_*_[0-9][0-9][0-9]") if p.is_dir()]
    path = journal_path(experiment)
    if path.is_file():
        check_journal(experiment)
    if not folders:
        return
    if not path.is_file():
        raise CorruptFileError(path, f"it is missing, but {len(folders)} trial folders exist", JOURNAL_FIX)
    storage = open_storage(experiment)
    held = {
        (s.study_name, t.number)
        for s in storage.get_all_studies()
        for t in storage.get_all_trials(s._study_id, deepcopy=False)
    }
    for name in sorted(folders):
        _, study, number = parse_trial_name(name)
        if (study, number) not in held:
            raise CorruptFileError(
                path,
                f"it holds no trial {number} of study {study!r}, but the trial folder {name} exists (cut or replaced?)",
                JOURNAL_FIX,
            )


def load_study(experiment: str | Path, domain: str, objective: str) -> optuna.Study:
    """One study of an experiment as an optuna.Study (importance, plots, dashboards)."""
    import optuna

    storage = open_storage(experiment)
    name = study_name(domain, objective)
    if name not in {s.study_name for s in storage.get_all_studies()}:
        raise ExperimentError(f"{experiment}: no study {name!r} in {JOURNAL}")
    return optuna.load_study(study_name=name, storage=storage)
