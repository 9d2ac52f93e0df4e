#!/usr/bin/python3
"""Checks that a model directory written by w2v2 (init, pretrain, finetune, SavePretrained) loads into torchaudio with
strict name matching and gives the same hidden states as `w2v2 features` or, for a CTC model (Wav2Vec2ForCTC with
lm_head), the same logits as `w2v2 logits`. The name mapping is the one torchaudio's import_huggingface_model applies
(transformers itself is not installable here, so the model is built with wav2vec2_model from config.json).

    w2v2 init --preset tiny --out /tmp/m
    w2v2 features --model /tmp/m --audio examples/data/speech.wav --out /tmp/f.npy
    /usr/bin/python3 tools/check_torchaudio_interop.py /tmp/m examples/data/speech.wav /tmp/f.npy
    w2v2 logits --model run/final --audio examples/data/speech.wav --out /tmp/l.npy
    /usr/bin/python3 tools/check_torchaudio_interop.py run/final examples/data/speech.wav /tmp/l.npy

Reads model.safetensors with its own few lines (no safetensors package needed) and prints the largest difference."""
import json, sys, wave
import numpy as np
import torch
from reference_common import load_torchaudio_model


directory, audio_path, features_path = sys.argv[1:4]
model, config, state = load_torchaudio_model(directory)

with wave.open(audio_path) as w:
    assert w.getsampwidth() == 2 and w.getnchannels() == 1
    rate = w.getframerate()
    audio = torch.frombuffer(bytearray(w.readframes(w.getnframes())), dtype=torch.int16).float() / 32768.0
if rate != 16000:
    raise SystemExit("give a 16 kHz recording (resamplers differ slightly): sox in.wav -r 16000 out.wav")
pre = json.load(open(directory + "/preprocessor_config.json"))
if pre.get("do_normalize", True):
    audio = (audio - audio.mean()) / torch.sqrt(audio.var(unbiased=False) + 1e-7)
ours = np.load(features_path)
with torch.no_grad():
    if "aux.weight" in state and ours.shape[1] == config["vocab_size"]:
        h, _ = model(audio[None])   # logits through the CTC head
        what = "logits"
    else:
        feats, _ = model.feature_extractor(audio[None], None)
        h = model.encoder.transformer._preprocess(model.encoder.feature_projection(feats))
        for layer in model.encoder.transformer.layers:
            h = layer(h)
        if config["do_stable_layer_norm"]:
            h = model.encoder.transformer.layer_norm(h)
        what = "hidden states"
theirs = h[0].numpy()
assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
error = np.abs(ours - theirs).max() / max(1.0, np.abs(theirs).max())
print("loaded %d tensors strictly into torchaudio; %s of %d frames; max error %.2e relative to the largest magnitude" % (len(state), what, ours.shape[0], error))
sys.exit(0 if error <= 1e-4 else 1)
