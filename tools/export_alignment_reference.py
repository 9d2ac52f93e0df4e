"""CTC forced-alignment fixtures from an independent numpy Viterbi, written from the algorithm.

States 0..2L: even = blank, odd s = token targets[(s-1)/2]. A path starts in state 0 or 1, and from state s at frame
t-1 moves to s (stay), s+1, or s+2 when s+2 is a token different from token s (skipping the blank between two
different tokens). It ends in state 2L or 2L-1. Ties (torchaudio's forced_align): stay over s-1 over s-2; at the end,
the last token (2L-1) unless the final blank (2L) is strictly better.

Writes tests/Wav2Vec2.Tests/Fixtures/alignment/viterbi_reference.json: a list of cases, each with the log-probabilities
(frames x vocab, log-softmax of random or peaked logits), the targets, the blank, and the reference path (a label per
frame) and its score. Usage: /usr/bin/python3 tools/export_alignment_reference.py
"""
import json, os
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "Wav2Vec2.Tests", "Fixtures", "alignment", "viterbi_reference.json")


def viterbi(logp, targets, blank):
    frames = logp.shape[0]
    states = 2 * len(targets) + 1
    label = [blank if s % 2 == 0 else targets[s // 2] for s in range(states)]
    alpha = np.full((frames, states), -np.inf)
    back = np.zeros((frames, states), dtype=np.int64)
    alpha[0, 0] = logp[0, label[0]]
    alpha[0, 1] = logp[0, label[1]]
    for t in range(1, frames):
        for s in range(states):
            best, source = alpha[t - 1, s], 0
            if s >= 1 and alpha[t - 1, s - 1] > best:
                best, source = alpha[t - 1, s - 1], 1
            if s >= 3 and s % 2 == 1 and targets[s // 2] != targets[s // 2 - 1] and alpha[t - 1, s - 2] > best:
                best, source = alpha[t - 1, s - 2], 2
            alpha[t, s] = best + logp[t, label[s]]
            back[t, s] = source
    s = states - 1 if alpha[-1, states - 1] > alpha[-1, states - 2] else states - 2
    score = alpha[-1, s]
    path = [0] * frames
    for t in range(frames - 1, -1, -1):
        path[t] = label[s]
        s -= back[t, s]
    return path, float(score)


def log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def main():
    rng = np.random.default_rng(7)
    cases = []
    shapes = [(12, 5, [1, 2, 3]), (20, 6, [1, 1, 2, 2, 1]), (40, 8, [3, 4, 4, 5, 1, 7, 7, 7]), (9, 4, [2, 2, 2, 2]),
              (60, 7, [1, 2, 1, 2, 3, 3, 4, 5, 6, 6, 1]), (5, 3, [1, 2]), (33, 30, [4, 9, 9, 12, 4, 18, 4, 25, 29])]
    for i, (frames, vocab, targets) in enumerate(shapes):
        for kind in ("random", "peaked"):
            logits = rng.normal(0, 1 if kind == "random" else 4, size=(frames, vocab))
            logits[:, 0] += 1.0  # the blank is the most common label, as in real models
            logp = log_softmax(logits).astype(np.float32)
            path, score = viterbi(logp.astype(np.float64), targets, 0)
            cases.append({"name": f"{i}-{kind}", "frames": frames, "vocab": vocab, "blank": 0, "targets": targets,
                          "log_probs": [float(v) for v in logp.ravel()], "path": path, "score": score})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(cases, f)
    print(f"{OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
