#!/usr/bin/python3
"""A small, randomly initialised WavLM model in Hugging Face's layout and its reference outputs, for the C# parity test.
torchaudio 0.13 has no WavLM and transformers is not installable here, so the reference is torchaudio's wav2vec2_model
in both of WavLM's layouts (Base: group-norm conv encoder, post-LN Transformer; Large: layer-norm conv encoder,
pre-LN Transformer) with its attention replaced by WavLM's, written here
from the paper and Hugging Face's published WavLMAttention semantics (source read, not copied): layer 0's
rel_attn_embed gives a bucketed relative position bias (half the buckets per direction, exact below a quarter, then
logarithmic to max_bucket_distance) shared by every layer; each layer gates it per head and query frame from its
attention input (gru_rel_pos_linear: head_dim -> 8, pairs of four summed, sigmoid; gate = a (g c - 1) + 2, c =
gru_rel_pos_const) and adds it to the scaled scores before the softmax. Output (committed):

  tests/Wav2Vec2.Tests/Fixtures/models/{wavlm,wavlm_stable}/   config.json (model_type wavlm), model.safetensors
                                                  (names under "wavlm."), vocab.json, preprocessor_config.json
  tests/Wav2Vec2.Tests/Fixtures/{wavlm,wavlm_stable}.reference.safetensors   input_values, hidden_states.N, logits

Run from the repository root with Debian's PyTorch: /usr/bin/python3 tools/export_wavlm_reference.py"""
import math, os
import torch
import torchaudio

from reference_common import hf_name, read_recording, small_model, write_model_files, write_safetensors

FIXTURES = "tests/Wav2Vec2.Tests/Fixtures"
VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I", "H"]
CONV = [(24, 10, 5), (24, 3, 2), (24, 3, 2), (24, 2, 2)]
HIDDEN, HEADS, BUCKETS, MAX_DISTANCE = 32, 4, 64, 100


def bucket(relative):
    half = BUCKETS // 2
    buckets = (relative > 0).to(torch.long) * half
    relative = torch.abs(relative)
    max_exact = half // 2
    large = torch.log(relative.float() / max_exact) / math.log(MAX_DISTANCE / max_exact) * (half - max_exact)
    large = torch.clamp((max_exact + large).to(torch.long), max=half - 1)
    return buckets + torch.where(relative < max_exact, relative, large)


def attention(attn, x, position_bias):
    b, t, c = x.shape
    d = c // HEADS
    gates = attn.gru_rel_pos_linear(x.view(b, t, HEADS, d).permute(0, 2, 1, 3)).view(b, HEADS, t, 2, 4).sum(-1)
    a, g = torch.sigmoid(gates).chunk(2, dim=-1)
    gate = a * (g * attn.gru_rel_pos_const - 1.0) + 2.0                      # (b, heads, t, 1)
    bias = gate * position_bias[None]                                        # (b, heads, t, t)
    q, k, v = (proj(x).view(b, t, HEADS, d).transpose(1, 2) for proj in (attn.q_proj, attn.k_proj, attn.v_proj))
    scores = (q * d ** -0.5) @ k.transpose(-1, -2) + bias
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, c)
    return attn.out_proj(out)


def export(name, stable, seed):
    torch.manual_seed(seed)
    model = small_model(CONV, HIDDEN, conv_bias=stable, layer_norm_first=stable, pos_kernel=16, pos_groups=4,
                        vocab_size=len(VOCAB), extractor_mode="layer_norm" if stable else "group_norm")
    layers = model.encoder.transformer.layers
    for i, layer in enumerate(layers):
        layer.attention.gru_rel_pos_const = torch.nn.Parameter(torch.ones(1, HEADS, 1, 1))
        layer.attention.gru_rel_pos_linear = torch.nn.Linear(HIDDEN // HEADS, 8)
        if i == 0:
            layer.attention.rel_attn_embed = torch.nn.Embedding(BUCKETS, HEADS)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p) * (1 + p.abs().mean()))
    model.eval()

    state = {hf_name(k).replace("wav2vec2.", "wavlm.", 1): v for k, v in model.state_dict().items()}
    state["wavlm.masked_spec_embed"] = torch.rand(HIDDEN)
    directory = os.path.join(FIXTURES, "models", name)
    os.makedirs(directory, exist_ok=True)
    write_safetensors(os.path.join(directory, "model.safetensors"), state, {"format": "pt"})
    config = {
        "architectures": ["WavLMForCTC"], "model_type": "wavlm", "vocab_size": len(VOCAB), "hidden_size": HIDDEN,
        "num_hidden_layers": 2, "num_attention_heads": HEADS, "intermediate_size": 64, "hidden_act": "gelu",
        "feat_extract_norm": "layer" if stable else "group", "feat_extract_activation": "gelu",
        "conv_dim": [c[0] for c in CONV], "conv_kernel": [c[1] for c in CONV], "conv_stride": [c[2] for c in CONV],
        "conv_bias": stable, "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4,
        "do_stable_layer_norm": stable, "num_buckets": BUCKETS, "max_bucket_distance": MAX_DISTANCE,
        "layer_norm_eps": 1e-5, "mask_time_prob": 0.05, "pad_token_id": 0, "ctc_loss_reduction": "sum",
    }
    write_model_files(directory, config, VOCAB, attention_mask=stable)

    audio = read_recording(os.path.join(FIXTURES, "reference_audio.wav"))
    values = ((audio - audio.mean()) / torch.sqrt(audio.var(unbiased=False) + 1e-7))[None]
    reference = {"input_values": values[0]}
    with torch.no_grad():
        feats, _ = model.feature_extractor(values, None)
        projected = model.encoder.feature_projection(feats)
        reference["extract_features"] = model.encoder.feature_projection.layer_norm(feats)[0]
        h = model.encoder.transformer._preprocess(projected)
        t = h.shape[1]
        relative = torch.arange(t)[None, :] - torch.arange(t)[:, None]       # key minus query
        position_bias = layers[0].attention.rel_attn_embed(bucket(relative)).permute(2, 0, 1)
        hidden = [h]
        for layer in layers:
            if stable:                                                        # as WavLMEncoderLayerStableLayerNorm
                h = h + attention(layer.attention, layer.layer_norm(h), position_bias)
                h = h + layer.feed_forward(layer.final_layer_norm(h))
            else:                                                             # as WavLMEncoderLayer
                h = layer.layer_norm(h + attention(layer.attention, h, position_bias))
                h = layer.final_layer_norm(h + layer.feed_forward(h))
            hidden.append(h)
        if stable:
            hidden[-1] = model.encoder.transformer.layer_norm(h)
        logits = model.aux(hidden[-1])
    for i, state_i in enumerate(hidden):
        reference["hidden_states.%d" % i] = state_i[0]
    reference["logits"] = logits[0]
    write_safetensors(os.path.join(FIXTURES, name + ".reference.safetensors"), reference,
                      {"torch": torch.__version__, "torchaudio": torchaudio.__version__, "attention": "WavLM, written here"})
    print("exported", name, "frames", logits.shape[1])


export("wavlm", stable=False, seed=13)
export("wavlm_stable", stable=True, seed=14)
