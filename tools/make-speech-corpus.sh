#!/usr/bin/env bash
# Synthesises a small spoken corpus with transcripts, in the LibriSpeech layout, for demos and tests:
#   OUT/<speaker>/<chapter>/<speaker>-<chapter>-<nnnn>.flac   16 kHz mono FLAC
#   OUT/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt     "<id> UPPER CASE TEXT" per line
#   OUT/transcripts.tsv                                       "relative/path.flac<TAB>TEXT" per line (ML.NET, w2v2 finetune)
# Sentences come from Debian's fortunes (fortunes-min), voices and speeds vary per speaker (espeak-ng), sox converts.
# Usage: bash tools/make-speech-corpus.sh OUT [UTTERANCES_PER_SPEAKER] [SPEAKERS]
# Needs: apt-get install espeak-ng sox fortunes-min
set -euo pipefail
out=${1:?usage: make-speech-corpus.sh OUT [UTTERANCES_PER_SPEAKER] [SPEAKERS]}
per_speaker=${2:-10}
speakers=${3:-4}
for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed (apt-get install espeak-ng sox fortunes-min)" >&2; exit 1; }
done
fortunes=/usr/share/games/fortunes/fortunes
[ -f "$fortunes" ] || { echo "error: $fortunes not found (apt-get install fortunes-min)" >&2; exit 1; }

# Sentences: single-line fortunes of 4 to 20 words, letters and basic punctuation only, in a fixed order.
mapfile -t sentences < <(awk 'BEGIN{RS="%\n"} { gsub(/\n/, " "); n = split($0, w, " "); if (n >= 4 && n <= 20 && $0 !~ /[^A-Za-z ,.;:!?'"'"'-]/) print }' "$fortunes")
[ "${#sentences[@]}" -gt 0 ] || { echo "error: no usable sentences in $fortunes" >&2; exit 1; }
voices=(en-us en-gb en-us+f3 en-gb+m3 en-us+m5 en-us+f2)
mkdir -p "$out"
: > "$out/transcripts.tsv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for ((s = 0; s < speakers; s++)); do
    speaker=$((100 + s)); chapter=$((1000 + s)); dir="$out/$speaker/$chapter"
    mkdir -p "$dir"; : > "$dir/$speaker-$chapter.trans.txt"
    for ((u = 0; u < per_speaker; u++)); do
        text=${sentences[$((n % ${#sentences[@]}))]}; n=$((n + 1))
        id=$(printf '%s-%s-%04d' "$speaker" "$chapter" "$u")
        espeak-ng -v "${voices[$((s % ${#voices[@]}))]}" -s $((130 + 15 * (s % 4))) -w "$tmp/u.wav" "$text"
        sox -G "$tmp/u.wav" -r 16000 -c 1 -b 16 "$dir/$id.flac"
        clean=$(echo "$text" | tr '[:lower:]' '[:upper:]' | tr -cd "A-Z' " | tr -s ' ' | sed 's/^ *//; s/ *$//')
        echo "$id $clean" >> "$dir/$speaker-$chapter.trans.txt"
        printf '%s\t%s\n' "$speaker/$chapter/$id.flac" "$clean" >> "$out/transcripts.tsv"
    done
done
echo "$out: $((speakers * per_speaker)) utterances from $speakers speakers"
