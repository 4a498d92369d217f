#!/usr/bin/env bash
# Real-rate CCTV benchmark (issue 14 item 5): one 10-minute 1280×720 25 fps
# H.264 clip with a keyframe every 2 s and a burned-in OSD clock, made once
# from OpenCV's real `vtest.avi` (Debian opencv-doc) looped (the loop serves
# throughput only). In one run, times FFmpeg's keyframe decode limit
# (`ffmpeg -skip_frame nokey -i F -f null -`) and `kaopei score` of a
# one-clip dataset with a cold scan cache (its `video` stage), best of 3
# each, interleaved, and prints the throughput ratio (target ≥ 0.9).
# Needs: a release build (make build), ffmpeg, opencv-doc.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./target/release/kaopei
DIR=${KAOPEI_BENCH_VIDEO:-out/bench/video}
VTEST=$(dpkg -L opencv-doc 2>/dev/null | grep -m1 '/vtest\.avi' || true)
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
CLIP="$DIR/data/videos/cam1.mp4"
mkdir -p "$DIR/data/videos"
if [ ! -f "$CLIP" ]; then
  if [ -z "$VTEST" ] || [ ! -f "$VTEST" ]; then
    echo "bench: vtest.avi not found (install Debian's opencv-doc); video benchmark skipped"
    exit 0
  fi
  osd="drawtext=text='%{pts\\:gmtime\\:1720602000}':x=20:y=20:fontsize=36:fontcolor=white:box=1:boxcolor=black@0.5"
  [ -f "$FONT" ] && osd="drawtext=fontfile=$FONT:${osd#drawtext=}"
  echo "bench: encoding the 10-minute 720p real-rate clip in $CLIP (once)"
  /usr/bin/time -f "bench: clip encoded in %e s" \
    ffmpeg -nostdin -v error -y -stream_loop -1 -i "$VTEST" -t 600 \
      -vf "scale=1280:720,fps=25,$osd" -c:v libx264 -preset veryfast -crf 23 \
      -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p "$CLIP.tmp.mp4"
  mv "$CLIP.tmp.mp4" "$CLIP"
fi
cat > "$DIR/data/institutions.csv" <<CSV
institution_id,name,kind,region
E1,Bench exam centre,exam,410100
CSV
cat > "$DIR/data/cctv.csv" <<CSV
video_id,institution_id,room,camera,file,claimed_start,claimed_end
V1,E1,R1,CH01,videos/cam1.mp4,2024-07-10 09:00:00,2024-07-10 09:10:00
CSV
du -h "$CLIP" | sed 's/^/bench: clip size /'

# Wall time is what the target is about; CPU time (user + system, whole
# process) is printed beside it because on a shared machine wall time also
# measures the neighbours. kaopei's wall time is its `video` stage (hashing,
# probing, decoding, features); its CPU time is the whole one-clip `score`.
best_ff=""; best_k=""; best_ffc=""; best_kc=""
for round in 1 2 3; do
  /usr/bin/time -f "%e %U %S" -o "$DIR/ff.time" ffmpeg -nostdin -v error -skip_frame nokey -i "$CLIP" -f null -
  read -r ff ffu ffs < "$DIR/ff.time"
  rm -rf "$DIR/out"
  /usr/bin/time -f "%e %U %S" -o "$DIR/k.time" "$BIN" score "$DIR/data" --out "$DIR/out" --no-html 2> "$DIR/score.log" > /dev/null || [ $? -le 1 ]
  read -r _ ku ks < <(tail -n 1 "$DIR/k.time")
  k=$(sed -n 's/.*video \([0-9.]*\)s.*/\1/p' "$DIR/score.log" | tail -n 1)
  [ -n "$k" ] || { cat "$DIR/score.log"; echo "bench: no video time in kaopei's log"; exit 2; }
  ffc=$(python3 -c "print(f'{$ffu + $ffs:.2f}')")
  kc=$(python3 -c "print(f'{$ku + $ks:.2f}')")
  echo "bench: round $round: ffmpeg -skip_frame nokey ${ff} s (cpu ${ffc} s), kaopei video stage ${k} s (cpu ${kc} s)"
  best_ff=$(python3 -c "print(min($ff, ${best_ff:-1e9}))")
  best_k=$(python3 -c "print(min($k, ${best_k:-1e9}))")
  best_ffc=$(python3 -c "print(min($ffc, ${best_ffc:-1e9}))")
  best_kc=$(python3 -c "print(min($kc, ${best_kc:-1e9}))")
done
echo "bench: real-rate clip 600 s 1280x720 25 fps, GOP 2 s: ffmpeg -skip_frame nokey ${best_ff} s, kaopei ${best_k} s (best of 3)"
python3 -c "print(f'bench: video throughput ratio kaopei/ffmpeg-nokey {$best_ff/$best_k:.2f}x wall (target >= 0.90), {$best_ffc/$best_kc:.2f}x cpu')"
