#!/usr/bin/env bash
# Writes the resampler fixtures: tones and sweeps synthesised by sox, and sox's own resampling of them to 16 kHz
# (`sox in.wav -r 16000 out.wav`, sox's default high-quality rate effect). Needs Debian's sox package.
# Run from the repository root: bash tools/export_resampler_reference.sh
set -euo pipefail
out=tests/Wav2Vec2.Tests/Fixtures/resampler
mkdir -p "$out"
synth() { sox -n -r "$1" -e floating-point -b 32 -c 1 "$out/$2" synth 0.5 "${@:3}" gain -3; }
synth 44100 tone_44100.wav sine 1000
synth 44100 sweep_44100.wav sine 100-7000
synth 8000 tone_8000.wav sine 1500
synth 48000 sweep_48000.wav sine 50-7500
for name in tone_44100 sweep_44100 tone_8000 sweep_48000; do
    sox "$out/$name.wav" -r 16000 "$out/${name}_sox16k.wav"
done
ls -l "$out"
