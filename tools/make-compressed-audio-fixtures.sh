#!/usr/bin/env bash
# Compressed-audio fixtures: 1 s of the bundled speech encoded by Debian's lame (CBR with a LAME Info tag, VBR with a
# Xing tag, 44.1 kHz stereo, no tag), oggenc (Vorbis) and opusenc (Opus), each with ffmpeg's decode of the same file
# as 32-bit float WAV (the expected samples; Opus through libopus, which ffmpeg's own Opus decoder does not match).
# Run from the repository root: bash tools/make-compressed-audio-fixtures.sh
set -euo pipefail
out=tests/Wav2Vec2.Tests/Fixtures/compressed
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sox examples/data/speech.wav -r 16000 -b 16 -c 1 "$tmp/mono.wav" trim 0.5 1.0
# Stereo at 44.1 kHz: the speech on the left, a quieter tone on the right.
sox -M "$tmp/mono.wav" "|sox -n -r 16000 -c 1 -b 16 -p synth 1.0 sine 300 gain -12" -r 44100 "$tmp/stereo.wav"

lame --quiet -b 64 "$tmp/mono.wav" "$out/cbr.mp3"   # 32 kb/s frames are too small for the LAME tag
lame --quiet -V 4 "$tmp/mono.wav" "$out/vbr.mp3"
lame --quiet -t -b 32 "$tmp/mono.wav" "$out/notag.mp3"
lame --quiet -b 96 "$tmp/stereo.wav" "$out/stereo44.mp3"
oggenc --quiet -q 2 -o "$out/speech.ogg" "$tmp/mono.wav"
oggenc --quiet -q 2 -o "$out/stereo44.ogg" "$tmp/stereo.wav"
opusenc --quiet --bitrate 24 "$tmp/mono.wav" "$out/speech.opus"
opusenc --quiet --bitrate 48 "$tmp/stereo.wav" "$out/stereo.opus"

for f in cbr.mp3 vbr.mp3 notag.mp3 stereo44.mp3 speech.ogg stereo44.ogg; do
    ffmpeg -v error -y -i "$out/$f" -c:a pcm_f32le "$out/$f.ffmpeg.wav"
done
for f in speech.opus stereo.opus; do
    ffmpeg -v error -y -c:a libopus -i "$out/$f" -c:a pcm_f32le "$out/$f.ffmpeg.wav"
done
ls -l "$out"
