#!/usr/bin/env bash
# Synthesises a labeled voice/accent data set for examples/SpeakerClassification: one class per espeak-ng voice
# (accent + voice variant), a different sentence for every clip, speed and pitch jittered per clip so that the
# classifier has to hear the voice, not the text or the tempo.
#   OUT/clips/<voice>-<nnn>.wav   16 kHz mono 16-bit WAV
#   OUT/labels.tsv                "Path<TAB>Label" header, then one line per clip (paths relative to OUT/clips)
# Usage: bash tools/make-voice-dataset.sh OUT [CLIPS_PER_VOICE] [SEED]   (another seed: other sentences, same voices)
# Needs: apt-get install -y espeak-ng sox
set -euo pipefail
out=${1:?usage: make-voice-dataset.sh OUT [CLIPS_PER_VOICE]}
per_voice=${2:-40}
seed=${3:-7}
for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed (apt-get install -y espeak-ng sox)" >&2; exit 1; }
done
# Label = accent of the voice; the +variant changes the speaker's timbre.
voices=(en-us+m3 en-gb+f2 en-gb-scotland+m1 en-029+f4 en-gb-x-rp+m7)
labels=(american british scottish caribbean received)
words=(the a small large quiet old new bright dark river garden market window morning evening letter station
       village teacher doctor painter sailor farmer walks reads writes finds carries watches opens closes near
       behind across under over before after slowly quickly often never always yesterday tomorrow together alone)
mkdir -p "$out/clips"
printf 'Path\tLabel\n' > "$out/labels.tsv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RANDOM=$seed
for v in "${!voices[@]}"; do
    for ((i = 0; i < per_voice; i++)); do
        # A sentence of 6 to 11 pseudo-random words (the same generator state for every run: reproducible).
        n=$((6 + RANDOM % 6)); text=""
        for ((w = 0; w < n; w++)); do text="$text ${words[$((RANDOM % ${#words[@]}))]}"; done
        name=$(printf '%s-%03d.wav' "${labels[$v]}" "$i")
        espeak-ng -v "${voices[$v]}" -s $((140 + RANDOM % 40)) -p $((40 + RANDOM % 20)) -w "$tmp/u.wav" "$text."
        sox -G "$tmp/u.wav" -r 16000 -c 1 -b 16 "$out/clips/$name"
        printf '%s\t%s\n' "$name" "${labels[$v]}" >> "$out/labels.tsv"
    done
done
echo "$out: $(( ${#voices[@]} * per_voice )) clips, ${#voices[@]} voices"
