#!/usr/bin/env bash
# Reads corpus lines aloud with synthetic voices, through a telephone channel (8 kHz
# mu-law, 300-3400 Hz), and writes what spoofex's recogniser heard: "label<TAB>transcript".
# Training on recogniser output as well as clean text makes the classifier robust to
# the words a recogniser drops and confuses (issue 5).
#   scripts/corpus/asr_transcripts.sh BIN IN.tsv OUT.tsv STEP VOICES...
# e.g. scripts/corpus/asr_transcripts.sh build/spoofex data/triage/train.tsv out.tsv 2 kal awb rms
# HELD_OUT_LM=data/triage/train.tsv: read each line with a domain LM that has not seen it
# (for lines of the LM's own text); JOBS: how many folds to decode at once (2).
set -euo pipefail
bin=$1 in=$2 out=$3 step=$4
shift 4
voices=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$work/list.tsv"
n=0
while IFS=$'\t' read -r label text; do
  n=$((n + 1)); [ $((n % step)) -eq 0 ] || continue
  clean=$(printf '%s' "$text" | tr 'A-Z' 'a-z' | sed -E "s/[^a-z0-9' ]+/ /g; s/ +/ /g; s/^ //; s/ $//")
  [ -n "$clean" ] || continue
  voice=${voices[$((n / step % ${#voices[@]}))]}
  flite -voice "$voice" -t "$clean" -o "$work/raw.wav" 2>/dev/null || continue
  # -R: sox dithers with a fresh seed on every run otherwise, and the readings would differ.
  sox -R "$work/raw.wav" -r 8000 -e mu-law "$work/$n.wav" sinc 300-3400 2>/dev/null
  printf '%s\t%s\n' "$work/$n.wav" "$label" >> "$work/list.tsv"
done < "$in"
# The reference column carries the label; the recogniser's words are the new text.
transcribe() {  # list.tsv [domain LM]
  "$bin" transcribe --eval "$1" --each ${2:+--domain-lm "$2"} | grep '"file"' |
    sed -E 's/.*"file":"[^"]*\/([0-9]+)\.wav".*"reference":"([a-z]+)".*"transcript":"([^"]*)".*/\1\t\2\t\3/'
}
if [ -z "${HELD_OUT_LM:-}" ]; then
  transcribe "$work/list.tsv" > "$work/heard.tsv"
else
  # Lines of IN.tsv that are also the domain LM's text (train.tsv) must not be read with an
  # LM that has seen them: a caller's words are new to it. Ten folds by line number; each
  # is read with an LM built like make model's from the other nine tenths of HELD_OUT_LM.
  lm_args=(--dictionary "$(dirname "$bin")/model/spoofex.dict"
    --keywords "$(dirname "$0")/../../data/speech/keywords.txt")
  for f in 0 1 2 3 4 5 6 7 8 9; do
    awk -F'\t' -v f=$f 'NR % 10 != f' "$HELD_OUT_LM" > "$work/lm_$f.tsv"
    "$bin" lm --data "$work/lm_$f.tsv" --out "$work/lm_$f.arpa" "${lm_args[@]}" >/dev/null
    awk -F'\t' -v f=$f '{ n = $1; sub(/.*\//, "", n); sub(/\.wav$/, "", n) } n % 10 == f' \
      "$work/list.tsv" > "$work/list_$f.tsv"
  done
  export -f transcribe; export bin work
  printf '%s\n' 0 1 2 3 4 5 6 7 8 9 | xargs -P "${JOBS:-2}" -I{} bash -c \
    '[ -s "$work/list_{}.tsv" ] && transcribe "$work/list_{}.tsv" "$work/lm_{}.arpa" > "$work/heard_{}.tsv" || true'
  cat "$work"/heard_*.tsv > "$work/heard.tsv"
fi
sort -n -k1,1 "$work/heard.tsv" | cut -f2,3 | awk -F'\t' '$2 != ""' > "$out"
echo "asr_transcripts: $(wc -l < "$out") lines" >&2
