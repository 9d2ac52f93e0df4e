#!/usr/bin/env bash
# Which of our samplers changes the pre-training dynamics? Replays of the twin's inputs (tools/twin-dynamics.sh) with
# our samplers swapped in: for each seed and each set of swapped samplers, Wav2Vec2.Benchmarks twin-replay --ours SET
# (our masks, distractors, Gumbel noise and, with batches, our batches and crops) trained by our engine; then one line
# per run: when accuracy leaves chance (mean of 20 updates above 0.15), when the codebook collapses (code perplexity
# below 40) or "never", and accuracy / perplexity at the last update.
# Usage: bash tools/twin-sampler-swaps.sh AUDIO_DIR WORK_DIR [SEEDS="1 2 3"] [SETS="noise negatives masks,negatives,noise batches,masks,negatives,noise"]
# WORK_DIR: the one tools/twin-dynamics.sh made (its init/final and recipe.json); runs go to WORK_DIR/swap-SET/seed-S.
set -euo pipefail
cd "$(dirname "$0")/.."
audio=${1:?usage: twin-sampler-swaps.sh AUDIO_DIR WORK_DIR [SEEDS] [SETS]}
work=${2:?usage: twin-sampler-swaps.sh AUDIO_DIR WORK_DIR [SEEDS] [SETS]}
seeds=${3:-1 2 3}
sets=${4:-noise negatives masks,negatives,noise batches,masks,negatives,noise}
[ -d "$work/init/final" ] && [ -f "$work/recipe.json" ] || { echo "error: $work has no init/final and recipe.json (run tools/twin-dynamics.sh first)" >&2; exit 1; }
python=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3)
dotnet build benchmarks/Wav2Vec2.Benchmarks -c Release -v quiet -nologo >/dev/null
replay="dotnet benchmarks/Wav2Vec2.Benchmarks/bin/Release/net10.0/Wav2Vec2.Benchmarks.dll twin-replay"
for seed in $seeds; do
    inputs="$work/inputs-$seed"
    [ -d "$inputs" ] || "${python[@]}" tools/pretrain_twin.py sample --model "$work/init/final" --recipe "$work/recipe.json" --data "$audio" \
        --out "$inputs" --seed "$seed" >/dev/null
    for set in $sets; do
        run="$work/swap-${set//,/+}/seed-$seed"
        [ -d "$run/final" ] || $replay --model "$work/init/final" --recipe "$work/recipe.json" --batches "$inputs" --out "$run" \
            --ours "$set" --data "$audio" --seed "$seed" >/dev/null
    done
done
"${python[@]}" - "$work"/swap-*/seed-* <<'PY'
import json, statistics, sys
for run in sys.argv[1:]:
    log = {r["update"]: r for r in map(json.loads, open(run + "/train_log.jsonl")) if r.get("split") == "train"}
    mean = lambda field, u: statistics.mean(log[v][field] for v in range(u - 19, u + 1) if v in log)
    last = max(log)
    leave = next((u for u in range(20, last + 1) if mean("accuracy", u) > 0.15), "never")
    collapse = next((u for u in range(20, last + 1) if mean("code_perplexity", u) < 40), "never")
    print("%-45s leaves chance %-5s collapses %-5s at %d: accuracy %.3f, code perplexity %.1f" % (
        run.split("/swap-")[-1], leave, collapse, last, mean("accuracy", last), mean("code_perplexity", last)))
PY
