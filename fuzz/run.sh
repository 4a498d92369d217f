#!/usr/bin/env bash
# Runs every fuzz target for a while (`make fuzz`).
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   targets to run (default: all four)
#   FUZZ_SANITIZER address (default) or none (faster, finds only panics)
#
# cargo-fuzz needs -Z flags; the toolchain is stable, so RUSTC_BOOTSTRAP=1.
# Corpora live in fuzz/corpus/TARGET (not committed) and are seeded from
# sample_data/demo; crashes land in fuzz/artifacts/TARGET. A crash found
# becomes a regression unit test beside the code it crashed, with the fix.
set -uo pipefail
cd "$(dirname "$0")"
SECS=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"table_reader datetime idno video_sample"}
SANITIZER=${FUZZ_SANITIZER:-address}
DEMO=../sample_data/demo
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked || exit 2
fi

# seed FILE TARGET PREFIX_BYTE: FILE (cut to its first 40 lines when it is
# CSV) behind one selector byte, as corpus/TARGET/seed-NAME.
seed() {
    local file=$1 target=$2 byte=$3 out
    out=corpus/$target/seed-$(basename "$file")
    [ -e "$out" ] && return
    { printf "\\x$(printf %02x "$byte")"; case $file in *.csv) head -n 40 "$file" ;; *) cat "$file" ;; esac; } >"$out"
}

mkdir -p corpus/table_reader corpus/datetime corpus/idno corpus/video_sample
# table_reader: the selector is the index in Table::ALL, +128 for XLSX.
tables=(institutions classes exam_sessions certificates cctv callbacks attendance exam_records exam_responses)
for i in "${!tables[@]}"; do
    for f in "$DEMO/${tables[$i]}".csv; do [ -f "$f" ] && seed "$f" table_reader "$i"; done
    for f in "$DEMO/${tables[$i]}".xlsx; do [ -f "$f" ] && seed "$f" table_reader $((i + 128)); done
done
# datetime: the forms DATA.md allows, and some the demo data holds.
n=0
for s in "2024-07-10 08:30:00" "2024-07-10T08:30:00" "2024/7/10 8:30" "2024-07-10 08:30" "2024-07-10" \
    "2024/7/10" "2024年7月10日" "2024-07-10 00:00:00" "2024-07-10 08:30:00.125" \
    $(cut -d, -f7 "$DEMO/attendance.csv" | sed -n '2,6p' | tr ' ' 'T'); do
    printf '%s' "$s" >corpus/datetime/seed-$n
    n=$((n + 1))
done
# idno: holders' ID numbers from the demo, written in several ways.
n=0
for s in $(cut -d, -f3 "$DEMO/attendance.csv" | sed -n '2,6p') "11010519491231002X" "11010519491231002x" \
    "１１０１０５１９４９１２３１００２Ｘ" " 110105194912310021 "; do
    printf '%s' "$s" >corpus/idno/seed-$n
    n=$((n + 1))
done
# video_sample: the demo clips, seeking and keyframe-only.
for f in "$DEMO"/videos/*.mp4; do
    seed "$f" video_sample 0
    cp -n corpus/video_sample/seed-"$(basename "$f")" corpus/video_sample/seed-kf-"$(basename "$f")"
    printf '\x04' | dd of=corpus/video_sample/seed-kf-"$(basename "$f")" bs=1 count=1 conv=notrunc status=none
done

cargo fuzz build -s "$SANITIZER" || exit 2
failed=()
for t in $TARGETS; do
    echo "fuzz: $t for ${SECS}s"
    if ! cargo fuzz run -s "$SANITIZER" "$t" "corpus/$t" -- \
        -max_total_time="$SECS" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1; then
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: no crashes"
