#!/usr/bin/env bash
# The wav2vec 2.0 paper's low-resource claim in miniature, end to end on 2 CPU cores:
#   corpus  tools/make_lowresource_corpus.py: 2 h of unlabeled synthetic speech from 216 voices, 10 min (and 1 h) of
#           labeled speech, dev and test sets in voices absent from the labeled sets (test voices also absent from
#           the unlabeled audio), dev/test sentences absent everywhere else
#   leg a   pre-train the tiny model on the unlabeled audio, then fine-tune it with CTC on the 10 minutes
#   leg b   the same architecture fine-tuned from random initialisation on the same 10 minutes, same recipe and budget
#   leg c   (--with-1h) leg a's pre-trained model fine-tuned on the 1 hour
# and reports test CER/WER (greedy decoding of each leg's final model and of its best checkpoint by dev WER or CER) and
# wall times in OUT/results.md. Nothing is tuned on the test set.
#
# Usage: bash tools/run-lowresource-experiment.sh OUT [--quick] [--with-1h] [--pretrain-updates N] [--finetune-updates N]
#            [--pretrain-flags "FLAGS"] [--best-metric wer|cer]
#   --quick           minutes of data and a few hundred updates: a smoke run of every step (not a result)
#   --pretrain-flags  more `w2v2 pretrain` options for leg a (a recipe chosen by tools/lowresource-recipe-search.sh)
#   --best-metric     the dev figure that picks each leg's best checkpoint (default cer: fairseq's wer sits near 100 %
#                     for these models and picks early checkpoints)
# Needs: the .NET SDK, /usr/bin/python3, apt-get install espeak-ng flite sox fortunes-min
set -euo pipefail
shopt -s inherit_errexit   # a failing step inside $(...) stops the run too
out=${1:?usage: run-lowresource-experiment.sh OUT [--quick] [--with-1h] [--pretrain-updates N] [--finetune-updates N] [--pretrain-flags FLAGS] [--best-metric wer|cer]}
shift
quick=0; with1h=0; pretrain_updates=10000; finetune_updates=4000; pretrain_flags=""; best_metric=cer
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; pretrain_updates=200; finetune_updates=150 ;;
        --with-1h) with1h=1 ;;
        --pretrain-updates) pretrain_updates=$2; shift ;;
        --finetune-updates) finetune_updates=$2; shift ;;
        --pretrain-flags) pretrain_flags=$2; shift ;;
        --best-metric) best_metric=$2; shift ;;
        *) echo "error: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$out/experiment.log"; }
seconds() { date +%s; }

log "building the command line"
source "$repo/tools/lowresource-common.sh"

if [ ! -f "$out/corpus/lm-text.txt" ]; then
    log "synthesising the corpus"
    /usr/bin/python3 "$repo/tools/make_lowresource_corpus.py" "$out/corpus" $([ $quick = 1 ] && echo --quick) | tee -a "$out/experiment.log"
fi
corpus=$out/corpus

# One fine-tuning leg: NAME INIT TRAIN, validated six times (the tiny recipe's 250 for 1500 updates); prints its wall
# time in seconds.
finetune() {
    local name=$1 init=$2 train=$3 start
    start=$(seconds)
    finetune_leg "$out/$name.log" "$out/$name" "$init" "$train" "$corpus/dev" "$finetune_updates" 6 "$best_metric"
    echo $(( $(seconds) - start ))
}

# Test WER and CER of a leg's final model and of its best by the dev figure (fairseq's WER picks early checkpoints while
# the WER is saturated near 100 %): prints "final_wer final_cer best_wer best_cer".
evaluate() {
    local which
    for which in final best; do
        w2v2 evaluate --model "$out/$1/$which" --data "$corpus/test" --out "$out/$1-$which-test.tsv" >"$out/$1-$which-test.txt"
        sed -n 's/^\(WER\|CER\): \([0-9.]*\) %.*/\2/p' "$out/$1-$which-test.txt"
    done | paste -sd' '
}

log "leg a: pre-training the tiny model ($pretrain_updates updates${pretrain_flags:+, $pretrain_flags})"
start=$(seconds)
step "$out/pretrain.log" w2v2 pretrain --preset tiny --data "$corpus/unlabeled" --out "$out/pretrain" --max-updates "$pretrain_updates" $pretrain_flags
pretrain_time=$(( $(seconds) - start ))
log "leg a: fine-tuning on 10 minutes ($finetune_updates updates)"
a_time=$(finetune finetune-a "$out/pretrain/final" "$corpus/train-10m")
log "leg b: fine-tuning from random initialisation on 10 minutes"
w2v2 init --preset tiny --out "$out/random-init" --seed 1 >/dev/null 2>&1 || true
b_time=$(finetune finetune-b "$out/random-init" "$corpus/train-10m")
a_results=$(evaluate finetune-a)
b_results=$(evaluate finetune-b)
read -r a_wer a_cer a_best_wer a_best_cer <<<"$a_results"
read -r b_wer b_cer b_best_wer b_best_cer <<<"$b_results"
read -r a_dev_cer a_dev_wer _ <<<"$(best_validation "$out/finetune-a")"
read -r b_dev_cer b_dev_wer _ <<<"$(best_validation "$out/finetune-b")"
{
    echo "| leg | labels | best dev CER, WER | test CER (final, best by dev $best_metric) | test WER (final, best) | wall time |"
    echo "|---|---|---|---|---|---|"
    echo "| (a) pre-trained ($pretrain_updates updates, $((pretrain_time / 60)) min) + CTC | 10 min | $a_dev_cer %, $a_dev_wer % | $a_cer %, $a_best_cer % | $a_wer %, $a_best_wer % | $(( (pretrain_time + a_time) / 60 )) min |"
    echo "| (b) random init + CTC | 10 min | $b_dev_cer %, $b_dev_wer % | $b_cer %, $b_best_cer % | $b_wer %, $b_best_wer % | $((b_time / 60)) min |"
} >"$out/results.md"
if [ $with1h = 1 ]; then
    log "leg c: fine-tuning the pre-trained model on 1 hour"
    c_time=$(finetune finetune-c "$out/pretrain/final" "$corpus/train-1h")
    c_results=$(evaluate finetune-c)
    read -r c_wer c_cer c_best_wer c_best_cer <<<"$c_results"
    echo "| (c) pre-trained + CTC | 1 h | $(best_validation "$out/finetune-c" | awk '{print $1 " %, " $2 " %"}') | $c_cer %, $c_best_cer % | $c_wer %, $c_best_wer % | $(( (pretrain_time + c_time) / 60 )) min |" >>"$out/results.md"
fi
log "done: $out/results.md"
cat "$out/results.md"
