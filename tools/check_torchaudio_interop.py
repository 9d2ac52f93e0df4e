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
import json, struct, sys, wave
import numpy as np
import torch
import torchaudio


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info["dtype"]
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[8 + n + a:8 + n + b], dtype="<f4").copy().reshape(info["shape"]))
    return out


def torchaudio_name(name):
    name = name[len("wav2vec2."):] if name.startswith("wav2vec2.") else name
    if name.startswith("lm_head."):
        return "aux." + name[len("lm_head."):]
    for old, new in (("feature_projection.", "encoder.feature_projection."), ("encoder.pos_conv_embed.", "encoder.transformer.pos_conv_embed."),
                     ("encoder.layer_norm.", "encoder.transformer.layer_norm."), ("encoder.layers.", "encoder.transformer.layers.")):
        if name.startswith(old):
            return new + name[len(old):]
    return name


directory, audio_path, features_path = sys.argv[1:4]
config = json.load(open(directory + "/config.json"))
weights = read_safetensors(directory + "/model.safetensors")
skip = ("masked_spec_embed", "quantizer.", "project_q.", "project_hid.")
state = {torchaudio_name(k): v for k, v in weights.items() if not any(s in k for s in skip)}
model = torchaudio.models.wav2vec2_model(
    extractor_mode="layer_norm" if config["feat_extract_norm"] == "layer" else "group_norm",
    extractor_conv_layer_config=list(zip(config["conv_dim"], config["conv_kernel"], config["conv_stride"])),
    extractor_conv_bias=config["conv_bias"], encoder_embed_dim=config["hidden_size"], encoder_projection_dropout=0.0,
    encoder_pos_conv_kernel=config["num_conv_pos_embeddings"], encoder_pos_conv_groups=config["num_conv_pos_embedding_groups"],
    encoder_num_layers=config["num_hidden_layers"], encoder_num_heads=config["num_attention_heads"], encoder_attention_dropout=0.0,
    encoder_ff_interm_features=config["intermediate_size"], encoder_ff_interm_dropout=0.0, encoder_dropout=0.0,
    encoder_layer_norm_first=config["do_stable_layer_norm"], encoder_layer_drop=0.0,
    aux_num_out=config["vocab_size"] if "aux.weight" in state else None).eval()
model.load_state_dict(state, strict=True)

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
