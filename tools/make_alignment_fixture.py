"""Speech with known word boundaries, for the forced-alignment test: each word is synthesised alone by espeak-ng,
resampled to 16 kHz and trimmed of its leading and trailing silence by sox, and the words are joined with silences of
known, seeded lengths, so every word's true start and end are known to the sample.

Writes tests/Wav2Vec2.Tests/Fixtures/alignment/words.flac (16 kHz mono, 16-bit) and words.json
({"sample_rate": 16000, "text": ..., "words": [{"word", "start", "end"}]}, times in seconds).
Needs Debian's espeak-ng and sox. Usage: /usr/bin/python3 tools/make_alignment_fixture.py
"""
import json, os, random, subprocess, tempfile, wave

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "Wav2Vec2.Tests", "Fixtures", "alignment")
TEXT = ("the quick brown fox jumps over the lazy dog speech representations are learned from raw audio "
        "a small model reads these words one by one")
RATE = 16000


def word_samples(word, work):
    raw, trimmed = os.path.join(work, "raw.wav"), os.path.join(work, "trimmed.wav")
    subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", raw, word], check=True)
    # Resample, then cut leading and trailing silence below -45 dB (the trimmed file is the word itself).
    subprocess.run(["sox", raw, "-r", str(RATE), "-c", "1", "-b", "16", trimmed, "silence", "1", "0.005", "-45d",
                    "reverse", "silence", "1", "0.005", "-45d", "reverse"], check=True)
    with wave.open(trimmed, "rb") as f:
        return f.readframes(f.getnframes())


def main():
    rng = random.Random(11)
    silence = lambda seconds: b"\0\0" * int(seconds * RATE)
    audio, words = bytearray(silence(0.3)), []
    with tempfile.TemporaryDirectory() as work:
        for word in TEXT.split():
            if words:
                audio += silence(rng.uniform(0.1, 0.45))
            samples = word_samples(word, work)
            start = len(audio) // 2
            audio += samples
            words.append({"word": word.upper(), "start": start / RATE, "end": (start + len(samples) // 2) / RATE})
    audio += silence(0.3)
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        joined = os.path.join(work, "words.wav")
        with wave.open(joined, "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(RATE)
            f.writeframes(bytes(audio))
        subprocess.run(["sox", joined, os.path.join(OUT, "words.flac")], check=True)
    with open(os.path.join(OUT, "words.json"), "w") as f:
        json.dump({"sample_rate": RATE, "text": TEXT.upper(), "words": words}, f, indent=1)
    print(f"{len(words)} words, {len(audio) / 2 / RATE:.1f} s")


if __name__ == "__main__":
    main()
