"""Writes a large synthetic 4-gram ARPA file for measuring the loader's memory and speed (not a fixture: do not commit
its output). Words are distinct upper-case strings, n-grams distinct word tuples (index i -> (a i + c) mod V^k, a
bijection), probabilities and back-off weights random; the format is what KenLM writes (tab-separated).

Usage: python3 tools/make-big-arpa.py OUT.arpa [--vocabulary 100000] [--counts 3000000,4000000,4000000]
Default: about 11 million n-grams, about 430 MB.
"""
import argparse, random, string

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--vocabulary", type=int, default=100000)
parser.add_argument("--counts", default="3000000,4000000,4000000", help="2-gram,3-gram,4-gram counts")
args = parser.parse_args()

V = args.vocabulary
higher = [int(c) for c in args.counts.split(",")]
counts = [V] + higher
rng = random.Random(12345)
letters = string.ascii_uppercase


def word(i):
    text = ""
    while True:
        text = letters[i % 26] + text
        i //= 26
        if i == 0 and len(text) >= 4:
            return text


words = ["<s>", "</s>", "<unk>"] + [word(i) for i in range(V - 3)]
MULTIPLIER = 2654435761   # odd and not a multiple of 5: coprime to V^k for V = 10^5 (check for other V)

with open(args.out, "w") as f:
    f.write("\\data\\\n" + "".join(f"ngram {k + 1}={n}\n" for k, n in enumerate(counts)) + "\n")
    f.write("\\1-grams:\n")
    f.write("".join(f"{-rng.uniform(1, 7):.6f}\t{w}\t{-rng.uniform(0, 1):.6f}\n" for w in words))
    for order, count in enumerate(higher, start=2):
        f.write(f"\n\\{order}-grams:\n")
        space = V ** order
        offset = rng.randrange(space)
        top = order == len(counts)
        chunk = []
        for i in range(count):
            x = (MULTIPLIER * i + offset) % space
            tuple_words = []
            for _ in range(order):
                tuple_words.append(words[x % V])
                x //= V
            line = f"{-rng.uniform(0.1, 6):.6f}\t{' '.join(tuple_words)}"
            chunk.append(line + "\n" if top else f"{line}\t{-rng.uniform(0, 1):.6f}\n")
            if len(chunk) == 100000:
                f.write("".join(chunk))
                chunk.clear()
        f.write("".join(chunk))
    f.write("\n\\end\\\n")
print(f"{args.out}: {sum(counts)} n-grams ({', '.join(map(str, counts))})")
