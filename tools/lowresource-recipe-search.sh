#!/usr/bin/env bash
# Judges pre-training recipes for the low-resource experiment by what matters, the dev CER after fine-tuning: each
# recipe pre-trains the tiny model on the corpus's unlabeled audio, is fine-tuned on its 10 minutes with the tiny CTC
# recipe (best checkpoint by dev CER), and prints one line: recipe, seed, contrastive accuracy and code perplexity at
# the end of pre-training (means of the last 20 updates), best dev CER and its update, minutes. The test set is never read.
#
# Usage: bash tools/lowresource-recipe-search.sh OUT CORPUS [--pretrain-updates N] [--finetune-updates N] [--seeds "1 2"] \
#            NAME="pretrain flags" [NAME="pretrain flags" ...]
#   CORPUS  a directory written by tools/make_lowresource_corpus.py
#   e.g.    bash tools/lowresource-recipe-search.sh /tmp/search /tmp/corpus div0.1="--diversity-weight 0.1" div0.5="--diversity-weight 0.5"
set -euo pipefail
shopt -s inherit_errexit
usage="usage: lowresource-recipe-search.sh OUT CORPUS [--pretrain-updates N] [--finetune-updates N] [--seeds LIST] NAME=FLAGS..."
out=${1:?$usage}; corpus=${2:?$usage}; shift 2
pretrain_updates=1000; finetune_updates=1000; seeds=1; recipes=()
while [ $# -gt 0 ]; do
    case "$1" in
        --pretrain-updates) pretrain_updates=$2; shift ;;
        --finetune-updates) finetune_updates=$2; shift ;;
        --seeds) seeds=$2; shift ;;
        *=*) recipes+=("$1") ;;
        *) echo "error: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ ${#recipes[@]} -gt 0 ] || { echo "error: no recipe given (NAME=\"pretrain flags\")" >&2; exit 2; }
[ -d "$corpus/unlabeled" ] && [ -d "$corpus/train-10m" ] && [ -d "$corpus/dev" ] || { echo "error: $corpus is not a low-resource corpus" >&2; exit 1; }
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
dotnet build "$repo/src/Wav2Vec2.Cli" -c Release -o "$out/cli" --nologo -v quiet >/dev/null
w2v2() { dotnet "$out/cli/w2v2.dll" "$@"; }
step() {
    local log=$1; shift
    "$@" >"$log" 2>&1 || { echo "error: $(basename "$log" .log) failed:" >&2; tail -n 3 "$log" >&2; exit 1; }
}
# Means of the last 20 logged training updates' accuracy and code perplexity, and the best validation CER with its update.
summarise() {
    /usr/bin/python3 - "$1/train_log.jsonl" "$2/train_log.jsonl" <<'EOF'
import json, sys
pre = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l][-20:]
valid = [json.loads(l) for l in open(sys.argv[2]) if '"valid"' in l]
best = min(valid, key=lambda e: e["cer"])
print(f'{sum(e["accuracy"] for e in pre) / len(pre):.2f} {sum(e["code_perplexity"] for e in pre) / len(pre):.0f} '
      f'{100 * best["cer"]:.1f} {best["update"]}')
EOF
}

echo "| recipe | seed | accuracy | code perplexity | best dev CER % | at update | minutes |"
echo "|---|---|---|---|---|---|---|"
for recipe in "${recipes[@]}"; do
    name=${recipe%%=*}; flags=${recipe#*=}
    for seed in $seeds; do
        run=$out/$name-seed$seed; start=$(date +%s)
        # shellcheck disable=SC2086  # the recipe's flags are words
        step "$run-pretrain.log" w2v2 pretrain --preset tiny --data "$corpus/unlabeled" --out "$run/pretrain" \
            --max-updates "$pretrain_updates" --seed "$seed" $flags
        step "$run-finetune.log" w2v2 finetune --init "$run/pretrain/final" --train "$corpus/train-10m" --valid "$corpus/dev" \
            --out "$run/finetune" --preset tiny --max-updates "$finetune_updates" --best-metric cer \
            --valid-interval $(( finetune_updates / 4 > 25 ? finetune_updates / 4 : 25 ))
        read -r accuracy perplexity cer at <<<"$(summarise "$run/pretrain" "$run/finetune")"
        echo "| $name | $seed | $accuracy | $perplexity | $cer | $at | $(( ($(date +%s) - start) / 60 )) |"
    done
done
