#!/usr/bin/env bash
# Scorecard calibration (issues 7 and 15): generate labelled synthetic
# datasets with `kaopei synth`, fit weights and tier cut-offs on one set of
# generator SETTINGS, and report held-out figures on OTHER settings (not
# just other seeds):
#   fit       intensity `mixed` (each pattern's own share), seeds 11-14
#   held out  intensity high (~80 % of units falsified), medium (~35 %),
#             low (~10 %), each on its own seeds, and
#             an honest world of HONEST_N (>= 300) institutions with every
#             honest profile on (`--honest`), which must leave >= 99 % below
#             orange.
# Every world has the honest profiles of issue 15 on (station-rotated and
# untimed practical exams, strong institutions, refresher holders' old
# certificates, feeder schools' fakes through honest centres).
# Datasets are generated once and kept under out/calibration/data (delete it
# to regenerate). Figures per setting are in out/calibration/result/calibration.md.
# Usage: scripts/calibrate.sh   (FIT_SEEDS / INSTITUTIONS / HONEST_N override)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./target/release/kaopei}
# CCTV clips take most of the generation time; VIDEO=1 renders them (the
# footage checks are then fitted too, otherwise they keep their weights).
VIDEO_ARG=--no-video; [ "${VIDEO:-0}" = 1 ] && VIDEO_ARG=
FIT_SEEDS=${FIT_SEEDS:-"11 12 13 14"}
N=${INSTITUTIONS:-40}
HONEST_N=${HONEST_N:-300}
DATA=out/calibration/data
mkdir -p "$DATA"
gen() { # name seed n extra-args...
  local name=$1 seed=$2 n=$3; shift 3
  if [ ! -f "$DATA/$name/truth.csv" ]; then
    # every other seed in the mixed formats (GBK, Chinese headers, XLSX)
    local fmt=csv; [ $((seed % 2)) = 1 ] && fmt=mixed
    "$BIN" synth --out "$DATA/$name" --institutions "$n" --seed "$seed" --formats "$fmt" $VIDEO_ARG "$@" > /dev/null 2>&1
  fi
}
fit=(); hold=()
for s in $FIT_SEEDS; do gen "mixed-s$s" "$s" "$N" --intensity mixed; fit+=("$DATA/mixed-s$s"); done
gen high-s31 31 "$N" --intensity high; hold+=("$DATA/high-s31")
gen medium-s32 32 "$N" --intensity medium; hold+=("$DATA/medium-s32")
gen low-s33 33 "$N" --intensity low; hold+=("$DATA/low-s33")
gen honest-s41 41 "$HONEST_N" --honest; hold+=("$DATA/honest-s41")
"$BIN" calibrate --fit "${fit[@]}" --holdout "${hold[@]}" --out out/calibration/result
# The honest world must leave >= 99 % of its institutions below orange.
awk -F'|' '/held-out `honest`, calibrated/ { gsub(/ /, "", $9); if ($9 + 0 > 0.01) { print "calibrate: honest world has " $9 " of institutions red or orange (> 1 %)"; bad = 1 } else { ok = 1 } }
  END { if (!ok || bad) exit 1 }' out/calibration/result/calibration.md
