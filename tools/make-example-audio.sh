#!/usr/bin/env bash
# Synthesises examples/data/speech.wav (22.05 kHz, 16-bit, about 7 s) with Debian's espeak-ng.
# Run from the repository root: bash tools/make-example-audio.sh
set -euo pipefail
mkdir -p examples/data
espeak-ng -v en-us -s 150 -w examples/data/speech.wav \
    "The quick brown fox jumps over the lazy dog. Speech representations are learned from raw audio."
