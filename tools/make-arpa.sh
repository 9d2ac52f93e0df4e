#!/usr/bin/env bash
# Builds an ARPA n-gram language model from English text with Debian's IRSTLM, normalised like the acoustic
# vocabulary (upper case; letters and apostrophes; one sentence per line).
#   OUT.arpa (or OUT.arpa.gz)   the model, readable by Wav2Vec2.Decoding.NGramLanguageModel, KenLM, SRILM
# Inputs: LibriSpeech transcripts (*.trans.txt: "<id> TEXT" lines; the id is dropped), directories (searched for
# *.trans.txt), or plain text files. Without inputs: Debian's fortunes (fortunes-min). --exclude DIR drops every
# sentence of DIR's transcripts (keep the test set out of the LM).
# Smoothing: IRSTLM's improved shift-beta (its name for modified Kneser-Ney), or witten-bell with --smoothing.
# Usage: bash tools/make-arpa.sh OUT.arpa [--order N] [--smoothing improved-kneser-ney|witten-bell] [--exclude DIR] [INPUT...]
# Needs: apt-get install irstlm fortunes-min
set -euo pipefail
out=${1:?usage: make-arpa.sh OUT.arpa [--order N] [--smoothing S] [--exclude DIR] [INPUT...]}
shift
order=4 smoothing=improved-kneser-ney exclude=""
inputs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --order) order=${2:?--order needs a value}; shift 2 ;;
        --smoothing) smoothing=${2:?--smoothing needs a value}; shift 2 ;;
        --exclude) exclude=${2:?--exclude needs a directory}; shift 2 ;;
        *) inputs+=("$1"); shift ;;
    esac
done
export IRSTLM=/usr/lib/irstlm
bin=$IRSTLM/bin
[ -x "$bin/build-lm.sh" ] || { echo "error: IRSTLM is not installed (apt-get install irstlm)" >&2; exit 1; }
if [ ${#inputs[@]} -eq 0 ]; then
    inputs=(/usr/share/games/fortunes/fortunes /usr/share/games/fortunes/literature /usr/share/games/fortunes/riddles)
    [ -f "${inputs[0]}" ] || { echo "error: no inputs and no fortunes (apt-get install fortunes-min)" >&2; exit 1; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints the text of one input: transcripts lose their leading id, fortunes their '%' separators.
text_of() {
    if [ -d "$1" ]; then
        find "$1" -name '*.trans.txt' -print0 | sort -z | xargs -0 -r cat | sed -E 's/^[^ ]+ //'
    elif [[ "$1" == *.trans.txt ]]; then
        sed -E 's/^[^ ]+ //' "$1"
    else
        grep -v '^%$' "$1"
    fi
}
normalise() {
    tr '[:lower:]' '[:upper:]' | sed -E "s/[^A-Z' ]+/ /g; s/ +/ /g; s/^ //; s/ $//" | grep .
}
for input in "${inputs[@]}"; do
    [ -e "$input" ] || { echo "error: $input not found" >&2; exit 1; }
    text_of "$input"
done | normalise > "$tmp/text"
if [ -n "$exclude" ]; then
    text_of "$exclude" | normalise | sort -u > "$tmp/exclude"
    grep -v -x -F -f "$tmp/exclude" "$tmp/text" > "$tmp/kept" || true
    mv "$tmp/kept" "$tmp/text"
fi
[ -s "$tmp/text" ] || { echo "error: no text left to train on" >&2; exit 1; }

# IRSTLM: sentence markers, counts and smoothing (an intermediate LM), then the ARPA text format.
"$bin/add-start-end.sh" < "$tmp/text" > "$tmp/text.se"
"$bin/build-lm.sh" -i "cat $tmp/text.se" -n "$order" -o "$tmp/lm.ilm.gz" -k 1 -s "$smoothing" -t "$tmp/stat" >/dev/null
"$bin/compile-lm" "$tmp/lm.ilm.gz" --text=yes "$tmp/lm.arpa" >/dev/null 2>&1
if [[ "$out" == *.gz ]]; then gzip -c "$tmp/lm.arpa" > "$out.tmp"; else cp "$tmp/lm.arpa" "$out.tmp"; fi
mv "$out.tmp" "$out"
echo "$out: order $order, $(wc -l < "$tmp/text") sentences, $(wc -w < "$tmp/text") words," \
     "$(grep -E '^ngram' "$tmp/lm.arpa" | tr -s ' ' | tr '\n' ' ')"
