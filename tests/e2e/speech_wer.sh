#!/usr/bin/env bash
# Builds the telephone-adapted speech model (scripts/adapt-model) if it is not there
# yet, and checks its word error rate on the held-out Asterisk prompts, with and
# without adaptation. Adaptation must beat the packaged model clearly.
set -euo pipefail
bin=$1
model=$2
here=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$model/mllr_matrix" ] || "$here/scripts/adapt-model" "$bin" "$model"
cfg=$(mktemp)
plain=$(mktemp)
trap 'rm -f "$cfg" "$plain"' EXIT
printf '[speech]\nmllr = "%s/mllr_matrix"\n' "$model" > "$cfg"
printf '[speech]\nmllr = "none"\n' > "$plain"
base=$("$bin" --config "$plain" transcribe --eval "$model/eval.tsv" | sed -E 's/.*"wer":([0-9.]+).*/\1/')
adapted=$("$bin" --config "$cfg" transcribe --eval "$model/eval.tsv" | sed -E 's/.*"wer":([0-9.]+).*/\1/')
echo "held-out Asterisk prompts: WER packaged model $base, adapted $adapted"
awk -v b="$base" -v a="$adapted" 'BEGIN { exit !(a < 0.45 && a < b - 0.15) }' ||
  { echo "adapted model is not good enough" >&2; exit 1; }
