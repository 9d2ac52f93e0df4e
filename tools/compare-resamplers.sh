#!/usr/bin/env bash
# Resampler comparison: tones, sweeps and speech at 8, 22.05, 44.1 and 48 kHz resampled to 16 kHz by sox's very high
# quality rate effect (rate -v) and by torchaudio.functional.resample (Hann-windowed sinc, width 6, rolloff 0.99, its
# defaults), then our resampler and NAudio's WDL resampler measured against both (benchmark `resample`).
# Needs: apt-get install -y sox python3-torchaudio. Run from the repository root: bash tools/compare-resamplers.sh
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
synth() { sox -n -r "$1" -e floating-point -b 32 -c 1 "$tmp/$2.wav" synth 2 "${@:3}" gain -3; }
# Sweeps over the pass band every resampler keeps (to 7 kHz), and one over the band edge (7-7.9 kHz), where each
# resampler's transition band is its own choice (ours starts at 7.6 kHz, torchaudio's 0.99 rolloff at 7.92 kHz).
synth 44100 tone_44100 sine 1000
synth 44100 sweep_44100 sine 50-7000
synth 48000 sweep_48000 sine 50-7000
synth 8000 sweep_8000 sine 50-3900
synth 44100 edge_44100 sine 7000-7900
sox examples/data/speech.wav -e floating-point -b 32 "$tmp/speech_22050.wav"
sox examples/data/speech.wav -e floating-point -b 32 -r 44100 "$tmp/speech_44100.wav" rate -v
for f in "$tmp"/*_[0-9]*.wav; do
    sox "$f" -e floating-point -b 32 -r 16000 "${f%.wav}.sox.wav" rate -v
done
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 - "$tmp" <<'PY'
import glob, sys, wave
import numpy as np, torch, torchaudio
for path in sorted(glob.glob(sys.argv[1] + "/*_[0-9]*.wav")):
    if path.endswith(".sox.wav"):
        continue
    audio, rate = torchaudio.load(path)
    out = torchaudio.functional.resample(audio, rate, 16000)
    torchaudio.save(path[:-4] + ".torchaudio.wav", out, 16000, encoding="PCM_F", bits_per_sample=32)
PY
dotnet build benchmarks/Wav2Vec2.Benchmarks -c Release -v quiet -nologo >/dev/null
for f in "$tmp"/*_[0-9]*.wav; do
    case $f in *.sox.wav|*.torchaudio.wav) continue ;; esac
    dotnet benchmarks/Wav2Vec2.Benchmarks/bin/Release/net10.0/Wav2Vec2.Benchmarks.dll resample "$f" "${f%.wav}.sox.wav" "${f%.wav}.torchaudio.wav" --runs 3 | grep -v '^cpu='
done
