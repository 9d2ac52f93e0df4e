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
source "$repo/tools/lowresource-common.sh"
# Means of the last 20 logged training updates' contrastive accuracy and code perplexity.
pretraining_end() {
    /usr/bin/python3 -c 'import json, sys
pre = [json.loads(l) for l in open(sys.argv[1]) if "\"train\"" in l][-20:]
print("%.2f %.0f" % (sum(e["accuracy"] for e in pre) / len(pre), sum(e["code_perplexity"] for e in pre) / len(pre)))' "$1/train_log.jsonl"
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
        finetune_leg "$run-finetune.log" "$run/finetune" "$run/pretrain/final" "$corpus/train-10m" "$corpus/dev" "$finetune_updates" 4 cer
        read -r accuracy perplexity <<<"$(pretraining_end "$run/pretrain")"
        read -r cer _ at <<<"$(best_validation "$run/finetune")"
        cer=$(printf '%.1f' "$cer")
        echo "| $name | $seed | $accuracy | $perplexity | $cer | $at | $(( ($(date +%s) - start) / 60 )) |"
    done
done
