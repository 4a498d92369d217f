#!/usr/bin/env bash
# Scorecard calibration (issue 7): generate labelled synthetic datasets with
# `kaopei synth` on fit seeds and on held-out seeds never used for fitting,
# then `kaopei calibrate` fits weights and tier cut-offs on the fit seeds and
# reports ROC AUC, precision/recall of red+orange and the honest false
# positive rate on the held-out seeds. Datasets are generated once and kept
# under out/calibration/data (delete it to regenerate).
# Usage: scripts/calibrate.sh   (FIT_SEEDS / HOLDOUT_SEEDS / INSTITUTIONS override)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./target/release/kaopei
FIT_SEEDS=${FIT_SEEDS:-"11 12 13 14 15 16"}
HOLDOUT_SEEDS=${HOLDOUT_SEEDS:-"21 22 23 24"}
N=${INSTITUTIONS:-40}
DATA=out/calibration/data
mkdir -p "$DATA"
gen() {
  local seed=$1
  if [ ! -f "$DATA/s$seed/truth.csv" ]; then
    # every other seed in the mixed formats (GBK, Chinese headers, XLSX)
    local fmt=csv; [ $((seed % 2)) = 1 ] && fmt=mixed
    "$BIN" synth --out "$DATA/s$seed" --institutions "$N" --seed "$seed" --formats "$fmt" > /dev/null
  fi
}
fit=(); hold=()
for s in $FIT_SEEDS; do gen "$s"; fit+=("$DATA/s$s"); done
for s in $HOLDOUT_SEEDS; do gen "$s"; hold+=("$DATA/s$s"); done
"$BIN" calibrate --fit "${fit[@]}" --holdout "${hold[@]}" --out out/calibration/result
