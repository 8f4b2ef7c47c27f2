#!/usr/bin/env bash
# Re-takes docs/img/*.png: a real search over two domains and two objectives, then TensorBoard's
# HPARAMS page and Optuna's dashboard, photographed by headless Chromium. Needs `make test`'s
# environment (.venv with optuna-dashboard) and Chromium (Debian: apt-get install chromium).
# Usage: docs/take_screenshots.sh [WORK_FOLDER]   (run from the repository root)
set -euo pipefail
work=${1:-$(mktemp -d)}
py=.venv/bin/python
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
mkdir -p docs/img

# The tiny model of --smoke-test, for 24 steps with a report every 6 (--smoke-test itself caps steps at 4).
tiny=(--set embed_dim=32 --set depth=2 --set num_heads=2 --set head_dim=16 --set mlp_dim=64 --set out_dim=32)
[ -d "$work/shots" ] || $py run_search.py search --domain digits,tabular --objective emix,shed \
    --num-samples 4 "${tiny[@]}" --set max_steps=24 --set eval_every=6 \
    --storage-path "$work" --name shots --num-cpus 2

shoot() {  # URL PNG: a 1600x1000 page after 20 s of the page's own time (its data load and drawing)
    "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d)" --hide-scrollbars --window-size=1600,1000 \
        --virtual-time-budget=20000 --screenshot="$2" "$1" 2>/dev/null
}

$py run_search.py tensorboard "$work/shots" --port 6116 & tb=$!
.venv/bin/optuna-dashboard --host 127.0.0.1 --port 8118 "$work/shots/optuna.journal" >/dev/null 2>&1 & od=$!
trap 'kill $tb $od 2>/dev/null || true' EXIT
sleep 15  # both servers up and TensorBoard's first scan of the event files done
shoot "http://127.0.0.1:6116/#hparams" docs/img/tensorboard_hparams.png
study=$($py -c "from dabs_lib.experiment import open_storage; print(open_storage('$work/shots').get_study_id_from_name('digits-shed'))")
shoot "http://127.0.0.1:8118/dashboard/studies/$study" docs/img/optuna_dashboard.png
echo "docs/img/tensorboard_hparams.png docs/img/optuna_dashboard.png (experiment: $work/shots)"
