#!/usr/bin/env bash
# The dynamics check of our pre-training against the PyTorch twin: the tiny recipe, the same initial weights and the
# same audio, several seeds in each engine, curves in one picture and a table at fixed updates.
#   ours/seed-S     w2v2 pretrain (our sampling and our training)
#   replay/seed-S   the twin's sampling (tools/pretrain_twin.py sample: its batches, crops, masks, distractors, Gumbel
#                   noise, learning rates) trained by our engine's arithmetic (Wav2Vec2.Benchmarks twin-replay), which
#                   equals the twin's (the one-step check; replays match the twin's own log to 1e-6 until argmax flips)
#   twin/seed-S     the PyTorch twin itself, for TWIN_SEEDS only (about 1 s per update on 2 cores with OpenBLAS: apt-get install libopenblas0-pthread)
# Usage: bash tools/twin-dynamics.sh AUDIO_DIR [UPDATES=600] [SEEDS="1 2 3"] [WORK_DIR] [TWIN_SEEDS=""]
# (AUDIO_DIR: 16 kHz WAVs, e.g. tools/make-voice-dataset.sh voices -> voices/clips; needs Debian's python3-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
audio=${1:?usage: twin-dynamics.sh AUDIO_DIR [UPDATES] [SEEDS] [WORK_DIR] [TWIN_SEEDS]}
updates=${2:-600}
seeds=${3:-1 2 3}
work=${4:-$(mktemp -d)}
twin_seeds=${5:-}
python=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3)
dotnet build src/Wav2Vec2.Cli -c Release -v quiet -nologo >/dev/null
dotnet build benchmarks/Wav2Vec2.Benchmarks -c Release -v quiet -nologo >/dev/null
w2v2="dotnet src/Wav2Vec2.Cli/bin/Release/net10.0/w2v2.dll"
replay="dotnet benchmarks/Wav2Vec2.Benchmarks/bin/Release/net10.0/Wav2Vec2.Benchmarks.dll twin-replay"
mkdir -p "$work"
$w2v2 pretrain --preset tiny --max-updates "$updates" --print-recipe > "$work/recipe.json"
# The initial weights: one update whose learning rate is 0 (the first of a warm-up from 0) leaves them as initialised.
[ -d "$work/init/final" ] || $w2v2 pretrain --preset tiny --data "$audio" --out "$work/init" --max-updates 1 --warmup-updates 1 --seed 1 >/dev/null
for seed in $seeds; do
    [ -d "$work/ours/seed-$seed/final" ] || $w2v2 pretrain --preset tiny --data "$audio" --init "$work/init/final" \
        --out "$work/ours/seed-$seed" --max-updates "$updates" --seed "$seed" | tail -1
    if [ ! -d "$work/replay/seed-$seed/final" ]; then
        "${python[@]}" tools/pretrain_twin.py sample --model "$work/init/final" --recipe "$work/recipe.json" --data "$audio" \
            --out "$work/inputs-$seed" --seed "$seed"
        $replay --model "$work/init/final" --recipe "$work/recipe.json" --batches "$work/inputs-$seed" --out "$work/replay/seed-$seed"
        rm -rf "$work/inputs-$seed"
    fi
done
for seed in $twin_seeds; do
    [ -d "$work/twin/seed-$seed/final" ] || OMP_NUM_THREADS=2 "${python[@]}" tools/pretrain_twin.py train --model "$work/init/final" \
        --recipe "$work/recipe.json" --data "$audio" --out "$work/twin/seed-$seed" --seed "$seed" | tail -1
done
runs=$(ls -d "$work"/{ours,replay,twin}/seed-* 2>/dev/null || true)
$w2v2 plot $runs --out "$work/curves.png" --smooth 10 --metrics loss,accuracy,code_perplexity,grad_norm
"${python[@]}" - "$work" $runs <<'PY'
import json, sys, statistics
work, runs = sys.argv[1], sys.argv[2:]
fields = ["loss", "accuracy", "code_perplexity", "blocked_distractors"]
logs = {}
for run in runs:
    rows = [json.loads(l) for l in open(run + "/train_log.jsonl") if '"train"' in l]
    logs.setdefault(run.split("/")[-2], []).append({r["update"]: r for r in rows})
last = max(max(log) for group in logs.values() for log in group)
marks = [m for m in (100, 200, 300, 450, 600) if m <= last] or [last]
print("Means over the 20 updates up to each mark; across seeds: mean (min-max). Runs in %s" % work)
print("| engine | seeds | update | " + " | ".join(fields) + " |")
print("|---|---|---|" + "---|" * len(fields))
for engine, group in logs.items():
    for mark in marks:
        cells = []
        for field in fields:
            values = [statistics.mean(log[u][field] for u in range(mark - 19, mark + 1) if u in log) for log in group]
            cells.append("%.3f (%.3f-%.3f)" % (statistics.mean(values), min(values), max(values)) if field != "code_perplexity"
                         else "%.1f (%.1f-%.1f)" % (statistics.mean(values), min(values), max(values)))
        print("| %s | %d | %d | %s |" % (engine, len(group), mark, " | ".join(cells)))
PY
echo "curves: $work/curves.png"
