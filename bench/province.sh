#!/usr/bin/env bash
# Province-scale benchmark (issue 7): generate the province dataset once,
# then in one run time `kaopei score` (ingest + all checks + CSV outputs,
# HTML excluded) and the DuckDB peer (../shared/bench/peer_duckdb.py) on the
# same data, and print times, peak memory, rows/s and the ratio.
# Needs: a release build (make build), python3 with duckdb (pip installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./target/release/kaopei
DATA=${KAOPEI_BENCH_DATA:-out/bench/province}
PEER=${KAOPEI_PEER:-../shared/bench/peer_duckdb.py}
mkdir -p out/bench
if [ ! -f "$DATA/truth.csv" ]; then
  echo "bench: generating the province dataset in $DATA (once)"
  /usr/bin/time -f "bench: synth %e s, peak %M KB" "$BIN" synth --scale province --no-video --seed 1 --out "$DATA"
fi
du -sh "$DATA" | sed 's/^/bench: dataset size /'
rows=$(cat "$DATA"/*.csv | wc -l)
echo "bench: $rows CSV lines"

rm -rf out/bench/score
/usr/bin/time -f "%e %M" -o out/bench/score.time "$BIN" score "$DATA" --out out/bench/score --no-html 2> out/bench/score.log || [ $? -le 1 ]
cat out/bench/score.log
# GNU time prepends "Command exited with non-zero status 1" (red tiers found)
read -r k_secs k_kb < <(tail -n 1 out/bench/score.time)
echo "bench: kaopei score ${k_secs} s, peak RSS $((k_kb / 1024)) MB, $(python3 -c "print(int($rows / $k_secs))") rows/s"

if [ -f "$PEER" ]; then
  python3 -c "import duckdb" 2>/dev/null || pip install -q duckdb
  /usr/bin/time -f "%e %M" -o out/bench/peer.time python3 "$PEER" "$DATA" --threads 2 > out/bench/peer.log
  read -r p_secs p_kb < <(tail -n 1 out/bench/peer.time)
  echo "bench: duckdb peer ${p_secs} s, peak RSS $((p_kb / 1024)) MB"
  python3 -c "print(f'bench: ratio kaopei/duckdb time {$k_secs/$p_secs:.2f}x, memory {$k_kb/$p_kb:.2f}x')"
else
  echo "bench: peer script $PEER not found; skipped"
fi
