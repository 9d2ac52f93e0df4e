#!/usr/bin/python3
"""Builds two small, randomly initialised torchaudio wav2vec 2.0 models with every parameter perturbed (so norms are not
identities), writes them as Hugging Face model directories, and records the Hugging Face-style hidden states and CTC
logits of a short synthetic recording. Output (committed, used by the C# parity tests):

  tests/Wav2Vec2.Tests/Fixtures/models/post_ln_group/   group-norm conv encoder, post-LN Transformer (BASE layout),
        even positional kernel; weights in model.safetensors with weight_g / weight_v names
  tests/Wav2Vec2.Tests/Fixtures/models/stable_layer/    layer-norm conv encoder with bias, pre-LN Transformer
        (LARGE-LV60 layout), odd positional kernel; weights in pytorch_model.bin (torch.save) with
        parametrizations.weight.original0/1 names
  tests/Wav2Vec2.Tests/Fixtures/models/hubert_post_ln/, hubert_stable/   the same two layouts as HuBERT checkpoints
        (model_type "hubert", backbone named "hubert.": torchaudio's hubert_base and hubert_large/xlarge builders are
        wav2vec2_model with these settings)
  tests/Wav2Vec2.Tests/Fixtures/reference_audio.wav     0.6 s, 16 kHz, 16-bit PCM
  tests/Wav2Vec2.Tests/Fixtures/<model>.reference.safetensors   input_values, extract_features, hidden_states.N, logits
  tests/Wav2Vec2.Tests/Fixtures/evil_pytorch_model.bin  a torch.save-shaped zip whose pickle calls os.system (must be refused)

Run from the repository root with Debian's PyTorch: /usr/bin/python3 tools/export_reference.py"""
import json, math, os, pickle, wave, zipfile
import torch
import torchaudio

from reference_common import hf_name, reference_outputs, write_model_files, write_safetensors

FIXTURES = "tests/Wav2Vec2.Tests/Fixtures"
VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I", "H"]
CONV = [(24, 10, 5), (24, 3, 2), (24, 3, 2), (24, 2, 2)]


def synthetic_recording(samples=9600, rate=16000):
    g = torch.Generator().manual_seed(7)
    t = torch.arange(samples) / rate
    x = 0.3 * torch.sin(2 * math.pi * 220 * t) + 0.2 * torch.sin(2 * math.pi * 660 * t * (1 + t)) + 0.05 * torch.randn(samples, generator=g)
    pcm = (x.clamp(-1, 1) * 32767).round().to(torch.int16)
    with wave.open(os.path.join(FIXTURES, "reference_audio.wav"), "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate); w.writeframes(pcm.numpy().astype("<i2").tobytes())
    return pcm.to(torch.float32) / 32768.0


def export(name, norm_mode, conv_bias, stable, pos_kernel, use_bin, family="wav2vec2"):
    torch.manual_seed(1 if stable else 0)
    model = torchaudio.models.wav2vec2_model(
        extractor_mode=norm_mode, extractor_conv_layer_config=CONV, extractor_conv_bias=conv_bias,
        encoder_embed_dim=32, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=pos_kernel, encoder_pos_conv_groups=4,
        encoder_num_layers=2, encoder_num_heads=4, encoder_attention_dropout=0.0, encoder_ff_interm_features=64,
        encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_norm_first=stable, encoder_layer_drop=0.0,
        aux_num_out=len(VOCAB)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p) * (1 + p.abs().mean()))
    # HuBERT is the same torchaudio model (hubert_base/large/xlarge build wav2vec2_model); Hugging Face names its
    # backbone "hubert." instead of "wav2vec2.".
    state = {hf_name(k).replace("wav2vec2.", family + ".", 1): v for k, v in model.state_dict().items()}
    state[family + ".masked_spec_embed"] = torch.rand(32)
    directory = os.path.join(FIXTURES, "models", name)
    os.makedirs(directory, exist_ok=True)
    for stale in ("model.safetensors", "pytorch_model.bin"):
        if os.path.exists(os.path.join(directory, stale)):
            os.remove(os.path.join(directory, stale))
    if use_bin:
        state = {k.replace("conv.weight_g", "conv.parametrizations.weight.original0").replace("conv.weight_v", "conv.parametrizations.weight.original1"): v
                 for k, v in state.items()}
        torch.save(state, os.path.join(directory, "pytorch_model.bin"))
    else:
        write_safetensors(os.path.join(directory, "model.safetensors"), state, {"format": "pt"})
    config = {
        "architectures": ["HubertForCTC" if family == "hubert" else "Wav2Vec2ForCTC"], "model_type": family,
        "vocab_size": len(VOCAB), "hidden_size": 32,
        "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu",
        "feat_extract_norm": "layer" if norm_mode == "layer_norm" else "group", "feat_extract_activation": "gelu",
        "conv_dim": [c[0] for c in CONV], "conv_kernel": [c[1] for c in CONV], "conv_stride": [c[2] for c in CONV],
        "conv_bias": conv_bias, "num_conv_pos_embeddings": pos_kernel, "num_conv_pos_embedding_groups": 4,
        "do_stable_layer_norm": stable, "layer_norm_eps": 1e-5, "mask_time_prob": 0.05, "pad_token_id": 0,
        "ctc_loss_reduction": "sum", "torch_dtype": "float32", "some_future_field": {"kept": True},
    }
    write_model_files(directory, config, VOCAB, attention_mask=norm_mode == "layer_norm")

    audio = synthetic_recording()
    ref = reference_outputs(model, audio, stable)
    write_safetensors(os.path.join(FIXTURES, name + ".reference.safetensors"), ref, {"torch": torch.__version__, "torchaudio": torchaudio.__version__})
    print("exported", name, "frames", ref["logits"].shape[0])


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def evil_checkpoint():
    with zipfile.ZipFile(os.path.join(FIXTURES, "evil_pytorch_model.bin"), "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"weight": Evil()}, protocol=2))
        z.writestr("archive/version", "3\n")


os.makedirs(os.path.join(FIXTURES, "models"), exist_ok=True)
export("post_ln_group", "group_norm", False, False, 16, use_bin=False)
export("stable_layer", "layer_norm", True, True, 15, use_bin=True)
export("hubert_post_ln", "group_norm", False, False, 16, use_bin=False, family="hubert")   # hubert_base's layout
export("hubert_stable", "layer_norm", True, True, 15, use_bin=False, family="hubert")     # hubert_large/xlarge's layout
evil_checkpoint()
