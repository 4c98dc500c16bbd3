#!/usr/bin/env bash
# Reads corpus lines aloud with synthetic voices, through a telephone channel (8 kHz
# mu-law, 300-3400 Hz), and writes what spoofex's recogniser heard: "label<TAB>transcript".
# Training on recogniser output as well as clean text makes the classifier robust to
# the words a recogniser drops and confuses (issue 5).
#   scripts/corpus/asr_transcripts.sh BIN IN.tsv OUT.tsv STEP VOICES...
# e.g. scripts/corpus/asr_transcripts.sh build/spoofex data/triage/train.tsv out.tsv 2 kal awb rms
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
  sox "$work/raw.wav" -r 8000 -e mu-law "$work/$n.wav" sinc 300-3400 2>/dev/null
  printf '%s\t%s\n' "$work/$n.wav" "$label" >> "$work/list.tsv"
done < "$in"
# The reference column carries the label; the recogniser's words are the new text.
"$bin" transcribe --eval "$work/list.tsv" --each | grep '"file"' |
  sed -E 's/.*"reference":"([a-z]+)".*"transcript":"([^"]*)".*/\1\t\2/' | awk -F'\t' '$2 != ""' > "$out"
echo "asr_transcripts: $(wc -l < "$out") lines" >&2
