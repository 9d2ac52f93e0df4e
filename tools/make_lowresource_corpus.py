#!/usr/bin/python3
"""Synthesises the corpus of the low-resource experiment (tools/run-lowresource-experiment.sh) with Debian's speech
synthesizers, in the LibriSpeech layout (SPEAKER/CHAPTER/SPEAKER-CHAPTER-NNNN.flac, 16 kHz mono, plus
SPEAKER-CHAPTER.trans.txt for labeled sets):

    OUT/unlabeled/   pre-training audio (transcripts kept aside in OUT/unlabeled.txt, never used for training)
    OUT/train-10m/   10 minutes of labeled audio from 8 voices
    OUT/train-1h/    1 hour of labeled audio (a superset of the 10 minutes' voices), for the optional third leg
    OUT/dev/         labeled, 6 voices absent from every training set
    OUT/test/        labeled, 6 other voices absent from every training set and from the unlabeled audio
    OUT/lm-text.txt  text for n-gram language models: every sentence except the dev and test ones

Voices: espeak-ng accents (US, British, Scottish, Lancaster, RP, West Midlands, Caribbean, New York) with its voice
variants, speeds and pitches, and flite's voices (kal, awb, rms, slt) with varied speed. Sentences: Debian's fortunes
(fortunes, literature, riddles) and the licence texts in /usr/share/common-licenses, upper-cased, letters and
apostrophes only, 5 to 20 words; dev and test sentences occur nowhere else. Everything is seeded.

Usage: /usr/bin/python3 tools/make_lowresource_corpus.py OUT [--unlabeled-hours H] [--quick]
Needs: apt-get install espeak-ng flite sox fortunes-min"""
import argparse, os, random, re, shutil, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor

ESPEAK_ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
ESPEAK_VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3",
                   "Andy", "Annie", "Alex", "Mike", "Linda", "Max", "Paul", "Steph", "John", "Robert", "Lee", "Zac"]
FLITE_VOICES = ["kal", "awb", "rms", "slt"]
TEXT_SOURCES = ["/usr/share/games/fortunes/fortunes", "/usr/share/games/fortunes/literature", "/usr/share/games/fortunes/riddles"]


def sentences():
    """Normalised sentences of 5 to 20 words from packaged English text, deduplicated, in a fixed order."""
    texts = [open(p, encoding="utf-8", errors="ignore").read().replace("\n%\n", ". ") for p in TEXT_SOURCES if os.path.exists(p)]
    licences = "/usr/share/common-licenses"
    for name in sorted(os.listdir(licences)) if os.path.isdir(licences) else []:
        path = os.path.join(licences, name)
        if os.path.isfile(path):
            texts.append(open(path, encoding="utf-8", errors="ignore").read())
    seen, result = set(), []
    for text in texts:
        for raw in re.split(r"[.!?;:]+\s", " ".join(text.split())):
            words = re.sub(r"[^A-Z' ]", " ", raw.upper().replace("-", " ")).split()
            words = [w.strip("'") for w in words if w.strip("'")]
            sentence = " ".join(words)
            if 5 <= len(words) <= 20 and sentence not in seen:
                seen.add(sentence)
                result.append(sentence)
    return result


def speakers(rng):
    """Distinct voices: (speaker id, synthesizer command builder)."""
    voices = []
    for accent in ESPEAK_ACCENTS:
        for variant in ESPEAK_VARIANTS:
            voices.append(("espeak", accent + ("+" + variant if variant else "")))
    for voice in FLITE_VOICES:
        voices.append(("flite", voice))
    rng.shuffle(voices)
    result = []
    for i, (engine, voice) in enumerate(voices):
        speed = rng.choice([125, 140, 155, 170, 185]) if engine == "espeak" else rng.choice([0.85, 1.0, 1.15])
        pitch = rng.choice([35, 45, 50, 55, 65])
        result.append({"id": 1000 + i, "engine": engine, "voice": voice, "speed": speed, "pitch": pitch})
    return result


def synthesise(speaker, text, flac, tmp):
    wav = os.path.join(tmp, "%d-%s.wav" % (speaker["id"], os.path.basename(flac)))
    if speaker["engine"] == "espeak":
        cmd = ["espeak-ng", "-v", speaker["voice"], "-s", str(speaker["speed"]), "-p", str(speaker["pitch"]), "-w", wav, text]
    else:
        cmd = ["flite", "-voice", speaker["voice"], "--setf", "duration_stretch=%.2f" % (1 / speaker["speed"]), "-t", text, "-o", wav]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Trim leading/trailing silence, normalise loudness, 16 kHz mono 16-bit FLAC.
    subprocess.run(["sox", wav, "-r", "16000", "-c", "1", "-b", "16", flac, "silence", "1", "0.02", "0.5%",
                    "reverse", "silence", "1", "0.02", "0.5%", "reverse", "norm", "-3"], check=True)
    os.remove(wav)
    out = subprocess.run(["soxi", "-D", flac], check=True, capture_output=True, text=True).stdout
    return float(out)


def build_set(out, name, voices, texts, seconds, rng, labeled, tmp, pool, jobs):
    """Synthesises utterances round-robin over voices until `seconds` of audio; returns (seconds, transcripts)."""
    root = os.path.join(out, name)
    total, done, lines = 0.0, [], {}
    index = 0
    while total < seconds and index < len(texts):
        batch = []
        for _ in range(jobs * 4):
            if index >= len(texts):
                break
            speaker = voices[index % len(voices)]
            chapter = speaker["id"] * 10
            n = sum(1 for s, _ in done if s == speaker["id"]) + sum(1 for s, _, _, _ in batch if s == speaker["id"])
            utterance = "%d-%d-%04d" % (speaker["id"], chapter, n)
            folder = os.path.join(root, str(speaker["id"]), str(chapter))
            os.makedirs(folder, exist_ok=True)
            batch.append((speaker["id"], utterance, texts[index], os.path.join(folder, utterance + ".flac")))
            index += 1
        durations = list(pool.map(lambda b: synthesise(next(v for v in voices if v["id"] == b[0]), b[2], b[3], tmp), batch))
        for (sid, utterance, text, flac), duration in zip(batch, durations):
            total += duration
            done.append((sid, utterance))
            lines.setdefault(os.path.dirname(flac), []).append("%s %s" % (utterance, text))
    if labeled:
        for folder, entries in lines.items():
            speaker, chapter = folder.split(os.sep)[-2:]
            with open(os.path.join(folder, "%s-%s.trans.txt" % (speaker, chapter)), "w") as f:
                f.write("\n".join(entries) + "\n")
    else:
        with open(os.path.join(out, name + ".txt"), "w") as f:
            for entries in lines.values():
                f.write("\n".join(entries) + "\n")
    used = [line.split(" ", 1)[1] for entries in lines.values() for line in entries]
    print("%s: %d utterances, %.1f min, %d voices" % (name, len(used), total / 60, len({s for s, _ in done})), flush=True)
    return total, used


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--unlabeled-hours", type=float, default=2.0)
    parser.add_argument("--quick", action="store_true", help="a few minutes of each set, for smoke runs")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for tool in ("espeak-ng", "flite", "sox", "soxi"):
        if shutil.which(tool) is None:
            sys.exit("error: %s is not installed (apt-get install espeak-ng flite sox fortunes-min)" % tool)
    rng = random.Random(args.seed)
    texts = sentences()
    rng.shuffle(texts)
    if len(texts) < 800:
        sys.exit("error: only %d sentences found (apt-get install fortunes-min)" % len(texts))
    voices = speakers(rng)
    test_voices, dev_voices = voices[:6], voices[6:12]
    labeled_voices, pool_voices = voices[12:20], voices[12:]
    scale = 0.1 if args.quick else 1.0
    dev_texts, test_texts, rest = texts[:150], texts[150:300], texts[300:]
    os.makedirs(args.out, exist_ok=True)
    jobs = os.cpu_count() or 2
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(jobs) as pool:
        build_set(args.out, "test", test_voices, test_texts, 600 * scale, rng, True, tmp, pool, jobs)
        build_set(args.out, "dev", dev_voices, dev_texts, 600 * scale, rng, True, tmp, pool, jobs)
        _, labeled10 = build_set(args.out, "train-10m", labeled_voices, rest, 600 * scale, rng, True, tmp, pool, jobs)
        _, labeled1h = build_set(args.out, "train-1h", labeled_voices + voices[20:40], rest, 3600 * scale, rng, True, tmp, pool, jobs)
        # The unlabeled audio reuses training sentences in other voices, never dev or test sentences or test voices.
        unlabeled_texts = (rest * 4)[:]
        rng.shuffle(unlabeled_texts)
        build_set(args.out, "unlabeled", pool_voices, unlabeled_texts, args.unlabeled_hours * 3600 * scale, rng, False, tmp, pool, jobs)
    with open(os.path.join(args.out, "lm-text.txt"), "w") as f:
        f.write("\n".join(rest) + "\n")
    print("%s: done (%d sentences for language models, none from dev or test)" % (args.out, len(rest)))


if __name__ == "__main__":
    main()
