#!/usr/bin/env bash
# FLAC decoder fixtures: sox encodes 1 s of the bundled speech (mono 16-bit), a stereo 24-bit mix of speech and a tone
# (exercises inter-channel decorrelation and LPC), and 8-bit mono; the matching WAV files are the expected output.
# Run from the repository root: bash tools/export_flac_reference.sh
set -euo pipefail
out=tests/Wav2Vec2.Tests/Fixtures/flac
mkdir -p "$out"
sox examples/data/speech.wav -r 16000 -b 16 -c 1 "$out/speech16.wav" trim 0.5 1.0
sox -M "$out/speech16.wav" "|sox -n -r 16000 -c 1 -b 16 -p synth 1.0 sine 300 gain -12" -b 24 "$out/stereo24.wav"
sox "$out/speech16.wav" -b 8 "$out/speech8.wav"
for name in speech16 stereo24 speech8; do sox "$out/$name.wav" "$out/$name.flac"; done
ls -l "$out"
