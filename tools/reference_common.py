"""Helpers shared by the fixture scripts: our own safetensors reader and writer, the torchaudio <-> Hugging Face name
maps, a torchaudio model built from one of our model directories, and wav2vec 2.0's distractor sampling."""
import json, struct
import numpy as np
import torch
import torchaudio


def sample_negatives(b, m, k, draw):
    """fairseq's sample_negatives within each utterance: for each of b x m masked frames (utterance-major), k indices
    (into the same order) of other masked frames of its utterance, drawn uniformly with replacement.
    draw(high, k): k integers in [0, high), as a tensor (the caller's random source)."""
    negatives = torch.empty(b * m, k, dtype=torch.long)
    for i in range(b):
        for t in range(m):
            others = draw(m - 1, k)
            others[others >= t] += 1                                     # skip the positive itself
            negatives[i * m + t] = i * m + others
    return negatives


def write_safetensors(path, tensors, metadata=None):
    """8-byte little-endian header length, JSON header (padded to 8 bytes), raw little-endian float32 data."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        data = tensors[name].detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def hf_name(name):
    """A torchaudio wav2vec2_model parameter name as Hugging Face Wav2Vec2ForCTC spells it."""
    for old, new in (("encoder.feature_projection.", "feature_projection."), ("encoder.transformer.pos_conv_embed.", "encoder.pos_conv_embed."),
                     ("encoder.transformer.layer_norm.", "encoder.layer_norm."), ("encoder.transformer.layers.", "encoder.layers.")):
        if name.startswith(old):
            name = new + name[len(old):]
    return "lm_head." + name[4:] if name.startswith("aux.") else "wav2vec2." + name


def read_safetensors(path):
    """The float32 tensors of a safetensors file (a few lines instead of the safetensors package)."""
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
    """A Hugging Face parameter name (with or without the wav2vec2. prefix) as torchaudio's wav2vec2_model spells it."""
    name = name[len("wav2vec2."):] if name.startswith("wav2vec2.") else name
    if name.startswith("lm_head."):
        return "aux." + name[len("lm_head."):]
    for old, new in (("feature_projection.", "encoder.feature_projection."), ("encoder.pos_conv_embed.", "encoder.transformer.pos_conv_embed."),
                     ("encoder.layer_norm.", "encoder.transformer.layer_norm."), ("encoder.layers.", "encoder.transformer.layers.")):
        if name.startswith(old):
            return new + name[len(old):]
    return name


def load_torchaudio_model(directory):
    """The torchaudio wav2vec2_model of a model directory written by w2v2 (config.json + model.safetensors), weights
    loaded strictly, in evaluation mode and without dropout. Returns (model, config, state dict)."""
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
    return model, config, state


def reference_outputs(model, audio, stable, normalize=True):
    """Hugging Face-style outputs of a torchaudio wav2vec2_model on a recording: input_values (normalised unless
    normalize is false), extract_features, hidden_states.N and logits, checked against torchaudio's own forward."""
    import torch
    values = ((audio - audio.mean()) / torch.sqrt(audio.var(unbiased=False) + 1e-7) if normalize else audio)[None]
    ref = {"input_values": values[0]}
    with torch.no_grad():
        feats, _ = model.feature_extractor(values, None)
        ref["extract_features"] = model.encoder.feature_projection.layer_norm(feats)[0]
        h = model.encoder.transformer._preprocess(model.encoder.feature_projection(feats))
        hidden = [h]
        for layer in model.encoder.transformer.layers:
            h = layer(h)
            hidden.append(h)
        if stable:
            hidden[-1] = model.encoder.transformer.layer_norm(hidden[-1])
        if model.aux is not None:
            logits = model.aux(hidden[-1])
            full, _ = model(values)
            assert torch.allclose(full, logits, atol=1e-5), "manual pass disagrees with torchaudio's forward"
    for i, state in enumerate(hidden):
        ref["hidden_states.%d" % i] = state[0]
    if model.aux is not None:
        ref["logits"] = logits[0]
    return ref


def write_model_files(directory, config, vocab, attention_mask):
    """config.json, vocab.json and preprocessor_config.json of a Hugging Face CTC model directory."""
    import json, os
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(directory, "vocab.json"), "w") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f)
    with open(os.path.join(directory, "preprocessor_config.json"), "w") as f:
        json.dump({"do_normalize": True, "feature_extractor_type": "Wav2Vec2FeatureExtractor", "feature_size": 1,
                   "padding_side": "right", "padding_value": 0.0, "return_attention_mask": attention_mask,
                   "sampling_rate": 16000}, f, indent=2)


def read_recording(path):
    """A 16-bit PCM WAV as float samples in [-1, 1]."""
    import torch, wave
    with wave.open(path, "rb") as w:
        pcm = torch.frombuffer(bytearray(w.readframes(w.getnframes())), dtype=torch.int16)
    return pcm.to(torch.float32) / 32768.0


def small_model(conv, hidden, conv_bias, layer_norm_first, pos_kernel, pos_groups, vocab_size, extractor_mode="layer_norm"):
    """A 2-layer torchaudio wav2vec2_model of the fixtures' size, without dropout, in evaluation mode."""
    import torchaudio
    return torchaudio.models.wav2vec2_model(
        extractor_mode=extractor_mode, extractor_conv_layer_config=conv, extractor_conv_bias=conv_bias,
        encoder_embed_dim=hidden, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=pos_kernel,
        encoder_pos_conv_groups=pos_groups, encoder_num_layers=2, encoder_num_heads=4, encoder_attention_dropout=0.0,
        encoder_ff_interm_features=64, encoder_ff_interm_dropout=0.0, encoder_dropout=0.0,
        encoder_layer_norm_first=layer_norm_first, encoder_layer_drop=0.0, aux_num_out=vocab_size).eval()
