#!/usr/bin/env bash
# Synthesises a small French speech set laid out as Common Voice ships it, for tests and the fine-tuning example:
#   OUT/clips/common_voice_fr_<n>.mp3   MP3 (lame, 48 kb/s, 16 kHz mono): Common Voice's format
#   OUT/train.tsv, OUT/dev.tsv, OUT/test.tsv   Common Voice's header (client_id path sentence up_votes down_votes
#                                              age gender accents locale segment) and one row per clip
# Sentences come from a fixed word list with accents, apostrophes and punctuation (« », ?, !), so that
# normalisation and vocabulary building meet them. espeak-ng's French voice reads them at jittered speed and pitch.
# Usage: bash tools/make-common-voice-set.sh OUT [CLIPS] [SEED]   (80% train, 10% dev, 10% test)
# Needs: apt-get install -y espeak-ng sox lame
set -euo pipefail
out=${1:?usage: make-common-voice-set.sh OUT [CLIPS] [SEED]}
clips=${2:-40}
seed=${3:-11}
for tool in espeak-ng sox lame; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed (apt-get install -y espeak-ng sox lame)" >&2; exit 1; }
done
words=(le la les un une petit grand vieux été hiver rivière forêt château élève garçon fenêtre très où à côté
       mère père frère sœur cœur l\'eau l\'école d\'abord aujourd\'hui qu\'il c\'est déjà même après voilà français)
header='client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccents\tlocale\tsegment'
mkdir -p "$out/clips"
for split in train dev test; do printf "$header\n" > "$out/$split.tsv"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RANDOM=$seed
for ((i = 0; i < clips; i++)); do
    n=$((3 + RANDOM % 5)); text=""
    for ((w = 0; w < n; w++)); do text="$text ${words[$((RANDOM % ${#words[@]}))]}"; done
    case $((RANDOM % 3)) in 0) text="${text# }." ;; 1) text="« ${text# } » ?" ;; *) text="${text# } !" ;; esac
    text="$(tr '[:lower:]' '[:upper:]' <<<"${text:0:1}")${text:1}"
    name=$(printf 'common_voice_fr_%05d.mp3' "$i")
    espeak-ng -v fr -s $((130 + RANDOM % 40)) -p $((40 + RANDOM % 20)) -w "$tmp/u.wav" "$text"
    sox -G "$tmp/u.wav" -r 16000 -c 1 -b 16 "$tmp/u16.wav"
    lame --quiet -b 48 "$tmp/u16.wav" "$out/clips/$name"
    split=train; (( i % 10 == 8 )) && split=dev; (( i % 10 == 9 )) && split=test
    printf 'speaker%d\t%s\t%s\t2\t0\t\t\t\tfr\t\n' $((i % 4)) "$name" "$text" >> "$out/$split.tsv"
done
echo "$out: $clips clips ($(($(wc -l < "$out/train.tsv") - 1)) train, $(($(wc -l < "$out/dev.tsv") - 1)) dev, $(($(wc -l < "$out/test.tsv") - 1)) test)"
