"""Seconds of `run_search.py status EXPERIMENT` on a synthesized experiment of 1,000 trials.

Writes, once, a real experiment folder (search.json + an Optuna journal written through Optuna,
4 studies x 250 trials with step-keyed intermediate values and the user attributes a search sets;
finished, pruned, running and errored trials; a trial folder with error.txt for each running one),
then times, side by side in fresh processes and interleaved: the status command, and the floor
every command pays (`python -c "import optuna"`). Median of --repeat runs. The goal: under 2 s.

    python bench/status_scale.py [--trials 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
STUDIES = (("digits", "emix"), ("digits", "shed"), ("tokens", "emix"), ("tokens", "shed"))


def synthesize(folder: Path, trials: int) -> Path:
    """A running experiment of `trials` trials in the on-disk layout of dabs_lib.experiment."""
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    from dabs_lib.experiment import (
        FOLDER_ATTR,
        METRIC,
        Manifest,
        Study,
        TUNE_ID_ATTR,
        journal_path,
        open_storage,
        study_name,
        trial_name,
    )

    exp = folder / "exp"
    exp.mkdir(parents=True)
    per_study = trials // len(STUDIES)
    manifest = Manifest(
        "search",
        {"domains": ["digits", "tokens"]},
        tuple(Study(d, o, "running", per_study + 10) for d, o in STUDIES),
        "running",
    )
    (exp / "search.json").write_text(json.dumps(manifest.to_dict()))
    journal_path(exp).touch()
    storage = open_storage(exp)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.COMPLETE, TrialState.FAIL, TrialState.RUNNING)
    for domain, objective in STUDIES:
        study = optuna.create_study(study_name=study_name(domain, objective), storage=storage, direction="maximize")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ExperimentalWarning
            study.set_metric_names([METRIC])
        for number in range(per_study):
            state = states[number % len(states)]
            folder_name = trial_name(domain, objective, number)
            if state == TrialState.RUNNING and number % 2:
                (exp / folder_name).mkdir()
                (exp / folder_name / "error.txt").write_text("Failure # 1 (occurred at x)\nRuntimeError: boom\n")
            study.add_trial(
                create_trial(
                    state=state,
                    params={"lr": 1e-4 * (1 + number % 9)},
                    distributions={"lr": FloatDistribution(1e-5, 1e-2)},
                    value=0.5 + number / 1e4 if state == TrialState.COMPLETE else None,
                    intermediate_values={50: 0.4, 100: 0.45} if state != TrialState.RUNNING else {50: 0.4},
                    user_attrs={"domain": domain, "objective": objective, FOLDER_ATTR: folder_name, TUNE_ID_ATTR: "x"},
                )
            )
    return exp


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--experiment", help="time this folder instead of synthesizing one")
    args = parser.parse_args()
    start = time.perf_counter()
    exp = (
        Path(args.experiment)
        if args.experiment
        else synthesize(Path(tempfile.mkdtemp(prefix="status-scale-")), args.trials)
    )
    print(
        f"synthesized {args.trials} trials in {time.perf_counter() - start:.0f} s: {exp} "
        f"(journal {(exp / 'optuna.journal').stat().st_size / 1e6:.1f} MB)"
    )
    commands = {
        f"status ({args.trials} trials)": [sys.executable, "run_search.py", "status", str(exp)],
        "python -c 'import optuna' (floor)": [sys.executable, "-c", "import optuna"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):  # interleaved, so machine load hits both alike
        for name, command in commands.items():
            times[name].append(seconds(command))
    from dabs_lib.status import read_status

    for _ in range(args.repeat):  # the reading itself, in this process (optuna already imported)
        start = time.perf_counter()
        read_status(exp)
        times.setdefault("read_status() in-process (no interpreter start, no imports)", []).append(
            time.perf_counter() - start
        )
    print("| command | median s | runs (s) |\n|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")


if __name__ == "__main__":
    main()
