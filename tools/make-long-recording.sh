#!/usr/bin/env bash
# A long recording with its transcript, for alignment benchmarks: fortunes read by espeak-ng, one after another,
# until the recording lasts at least MINUTES, then repeated TIMES times (default 1) to make a longer one from the same
# speech. Writes OUT.wav (16 kHz mono) and OUT.txt (the transcript).
# Needs Debian's espeak-ng, sox and fortunes-min. Usage: bash tools/make-long-recording.sh OUT MINUTES [TIMES]
set -euo pipefail
out=$1 minutes=$2 times=${3:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Fortunes as plain sentences: letters, apostrophes and spaces only (the transcript the recording says).
awk 'BEGIN { RS = "%\n" } { gsub(/[^A-Za-z\x27]+/, " "); print }' /usr/share/games/fortunes/fortunes \
    | awk 'length($0) > 20' > "$work/sentences.txt"
: > "$work/text.txt"
seconds=0 n=0
while read -r sentence && [ "$(echo "$seconds < $minutes * 60" | bc)" = 1 ]; do
    espeak-ng -v en -s 160 -w "$work/s.wav" "$sentence"
    sox "$work/s.wav" -r 16000 -c 1 -b 16 "$work/part$n.wav"
    echo "$sentence" >> "$work/text.txt"
    seconds=$(echo "$seconds + $(soxi -D "$work/part$n.wav")" | bc)
    n=$((n + 1))
done < "$work/sentences.txt"
parts=$(for ((i = 0; i < n; i++)); do echo "$work/part$i.wav"; done)
sox $parts "$work/once.wav"
: > "$out.txt"
copies=""
for ((i = 0; i < times; i++)); do copies="$copies $work/once.wav"; cat "$work/text.txt" >> "$out.txt"; done
sox $copies "$out.wav"
echo "$out.wav: $(soxi -d "$out.wav"), $(wc -w < "$out.txt") words"
