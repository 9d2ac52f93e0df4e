"""Scores sentences on the committed ARPA fixtures by the ARPA back-off rules, independently of the C# reader.

    P(w | h) = p(h w)                   if the n-gram "h w" is listed
             = bo(h) + P(w | h[1:])     otherwise (bo(h) = 0 when h is not listed), log10 throughout

with h cut to the last (order - 1) words, a sentence scored as <s> w1 .. wn </s>, and unknown words read as <unk> when
the model lists it, else scored UNKNOWN_LOG10 (then nothing listed can follow them). Plain python3, no third-party
packages. Writes tests/Wav2Vec2.Tests/Fixtures/lm/reference_scores.json: {file: {sentence: log10 score}}.

Usage: python3 tools/export_lm_reference.py
"""
import gzip, json, os

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "tests", "Wav2Vec2.Tests", "Fixtures", "lm")
UNKNOWN_LOG10 = -100.0


def read_arpa(path):
    """{n-gram tuple: (log10 prob, log10 back-off)}, order."""
    opener = gzip.open if path.endswith(".gz") else open
    ngrams, order, section = {}, 0, None
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("ngram ") and "=" in line:
                order = max(order, int(line[6:line.index("=")]))
            elif line.startswith("\\") and line.endswith("-grams:"):
                section = int(line[1:line.index("-")])
            elif line == "\\end\\":
                section = None
            elif section and line:
                fields = line.split()
                words = tuple(fields[1:1 + section])
                prob = float("-inf") if fields[0] in ("-inf", "-Infinity") else float(fields[0])
                backoff = float(fields[1 + section]) if len(fields) > 1 + section else 0.0
                ngrams[words] = (prob, backoff)
    return ngrams, order


def word_prob(ngrams, history, word):
    """The back-off recursion, spelled out."""
    if history + (word,) in ngrams:
        return ngrams[history + (word,)][0]
    if not history:
        raise KeyError(word)
    backoff = ngrams[history][1] if history in ngrams else 0.0
    return backoff + word_prob(ngrams, history[1:], word)


def sentence_score(ngrams, order, sentence):
    vocabulary = {k[0] for k in ngrams if len(k) == 1}
    history, total = ("<s>",) if ("<s>",) in ngrams else (), 0.0
    for word in sentence.split() + ["</s>"]:
        if word == "</s>" and ("</s>",) not in ngrams:
            break
        if word not in vocabulary:
            if "<unk>" not in vocabulary:
                total += UNKNOWN_LOG10
                history = ("\0unknown",)   # a history no n-gram extends
                continue
            word = "<unk>"
        total += word_prob(ngrams, history[-(order - 1):] if order > 1 else (), word)
        history = history + (word,)
    return total


SENTENCES = {
    "small.arpa": ["", "A", "B", "A B", "A B A", "A B A B", "A B AB", "AB BA", "AB BA ABA", "AB B A", "B A B A B",
                   "ABA", "BA ABA A", "ZZZ", "ZZZ A B", "A ZZZ B", "A B ZZZ", "ABA ABA ABA", "B B B", "<unk> A B"],
    "no-unk.arpa": ["", "X", "Y", "X Y", "Y X", "X Q Y", "Q", "X Y X Y"],
    "fortunes-3gram.arpa.gz": [
        "A DAY FOR FIRM DECISIONS OR IS IT",
        "YOU WILL BE HAPPY",
        "THE MOUSE AND THE ELEPHANT",
        "ALL THE WORLD'S A STAGE",
        "QWERTY ZZYZX THE END",
        "IT IS A GOOD DAY TO DIE",
        "WHAT IS THE MEANING OF LIFE",
    ],
}


def main():
    result = {}
    for name, sentences in SENTENCES.items():
        ngrams, order = read_arpa(os.path.join(FIXTURES, name))
        result[name] = {s: round(sentence_score(ngrams, order, s), 6) for s in sentences}
    with open(os.path.join(FIXTURES, "reference_scores.json"), "w") as f:
        json.dump({"unknown_log10": UNKNOWN_LOG10, "scores": result}, f, indent=1)
        f.write("\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
