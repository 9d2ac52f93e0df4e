#!/usr/bin/env bash
# The hand-off to PyTorch DDP and back, on this machine's CPU with 2 processes (gloo):
#   1. w2v2 pre-trains the tiny model for 20 updates (our engine);
#   2. the PyTorch twin continues it for N updates under torchrun --nproc_per_node 2 (DistributedDataParallel);
#   3. w2v2 reads the twin's checkpoint: its features equal the twin's own (torchaudio) forward;
#   4. w2v2 continues pre-training from the twin's checkpoint (--init).
# Usage: bash tools/twin-ddp-roundtrip.sh AUDIO_DIR [UPDATES] [WORK_DIR]   (AUDIO_DIR: 16 kHz WAVs, e.g. from
# tools/make-voice-dataset.sh voices -> voices/clips; needs Debian's python3-torch and python3-torchaudio)
set -euo pipefail
cd "$(dirname "$0")/.."
audio=${1:?usage: twin-ddp-roundtrip.sh AUDIO_DIR [UPDATES] [WORK_DIR]}
updates=${2:-50}
work=${3:-$(mktemp -d)}
dotnet build src/Wav2Vec2.Cli -c Release -v quiet -nologo >/dev/null
w2v2="dotnet src/Wav2Vec2.Cli/bin/Release/net10.0/w2v2.dll"
$w2v2 pretrain --preset tiny --data "$audio" --out "$work/ours" --max-updates 20 | tail -1
# The recipe of an N-update run (its warm-up and temperature schedule scale with the run's length).
$w2v2 pretrain --preset tiny --max-updates "$updates" --print-recipe > "$work/recipe.json"
# Debian's torchrun (PyTorch 1.13 on Python 3.11) cannot parse its own default --redirects/--tee "0": give them.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 /usr/bin/torchrun --redirects 1 --tee 1 --nproc_per_node 2 \
    tools/pretrain_twin.py train --model "$work/ours/final" --recipe "$work/recipe.json" --data "$audio" \
    --out "$work/twin" | tail -1
clip=$(find "$audio" -name '*.wav' | sort | head -1)
$w2v2 features --model "$work/twin/final" --audio "$clip" --out "$work/twin-features.npy"
/usr/bin/python3 - "$work/twin/final" "$clip" "$work/twin-features.npy" <<'PY'
import json, sys
import numpy as np, torch
sys.path.insert(0, "tools")
import pretrain_twin as twin
directory, clip, ours = sys.argv[1:]
none = dict.fromkeys(["feat_proj_dropout", "attention_dropout", "activation_dropout", "hidden_dropout", "layerdrop",
                      "feat_quantizer_dropout"], 0.0)
model = twin.load(directory, dict(none, feature_grad_mult=1.0)).eval()
wav = twin.load_audio(clip, False)
if json.load(open(directory + "/preprocessor_config.json"))["do_normalize"]:
    wav = (wav - wav.mean()) / torch.sqrt(wav.var(unbiased=False) + 1e-7)
with torch.no_grad():
    feats, _ = model.backbone.feature_extractor(wav[None], None)
    hidden = model.backbone.encoder.transformer(model.backbone.encoder.feature_projection(feats))[0].numpy()
a = np.load(ours)
print("features of the twin's checkpoint, w2v2 vs the twin: %d x %d, max |difference| / max |value| = %.2e"
      % (a.shape + (np.abs(a - hidden).max() / np.abs(hidden).max(),)))
PY
$w2v2 pretrain --preset tiny --data "$audio" --init "$work/twin/final" --out "$work/back" --max-updates 10 | tail -1
$w2v2 plot "$work/ours" "$work/twin" "$work/back" --out "$work/curves.png"
echo "runs in $work: ours/, twin/ (train_log.jsonl with engine pytorch-twin), back/; curves.png"
