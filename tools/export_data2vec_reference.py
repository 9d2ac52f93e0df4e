#!/usr/bin/python3
"""A small, randomly initialised data2vec-audio model in Hugging Face's layout and its reference outputs, for the C#
parity test. torchaudio 0.13 has no data2vec and transformers is not installable here, so the reference is torchaudio's
wav2vec2_model (a layer-norm conv encoder and a post-LN Transformer, which data2vec-audio shares with wav2vec 2.0) with
its positional embedding replaced by data2vec-audio's, written here from the paper and Hugging Face's published
semantics (Data2VecAudioPositionalConvEmbedding): num_conv_pos_embeddings layers, each a grouped Conv1d of width
conv_pos_kernel_size with bias and padding width // 2, the last frame dropped when the width is even, a LayerNorm over
channels without parameters (eps 1e-5) and GELU. Output (committed):

  tests/Wav2Vec2.Tests/Fixtures/models/data2vec_audio/            config.json (model_type data2vec-audio), model.safetensors
                                                                  (names under "data2vec_audio."), vocab.json, preprocessor_config.json
  tests/Wav2Vec2.Tests/Fixtures/data2vec_audio.reference.safetensors   input_values, extract_features, hidden_states.N, logits

Run from the repository root with Debian's PyTorch: /usr/bin/python3 tools/export_data2vec_reference.py"""
import os
import torch
import torchaudio

from reference_common import hf_name, read_recording, reference_outputs, small_model, write_model_files, write_safetensors

FIXTURES = "tests/Wav2Vec2.Tests/Fixtures"
VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I", "H"]
CONV = [(24, 10, 5), (24, 3, 2), (24, 3, 2), (24, 2, 2)]
HIDDEN, GROUPS, POS_LAYERS, POS_KERNEL = 32, 4, 3, 4   # an even width: the dropped last frame is exercised


class PositionalConvLayer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(HIDDEN, HIDDEN, POS_KERNEL, padding=POS_KERNEL // 2, groups=GROUPS)

    def forward(self, x):                      # (B, C, T)
        x = self.conv(x)
        if POS_KERNEL % 2 == 0:
            x = x[:, :, :-1]
        x = torch.nn.functional.layer_norm(x.transpose(1, 2), (HIDDEN,), eps=1e-5).transpose(1, 2)
        return torch.nn.functional.gelu(x)


class PositionalConvEmbedding(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([PositionalConvLayer() for _ in range(POS_LAYERS)])

    def forward(self, x):                      # (B, T, C), as torchaudio's transformer calls it
        x = x.transpose(1, 2)
        for layer in self.layers:
            x = layer(x)
        return x.transpose(1, 2)




torch.manual_seed(5)
model = small_model(CONV, HIDDEN, conv_bias=False, layer_norm_first=False, pos_kernel=3, pos_groups=GROUPS, vocab_size=len(VOCAB))
model.encoder.transformer.pos_conv_embed = PositionalConvEmbedding()
model.eval()
with torch.no_grad():
    for p in model.parameters():
        p.add_(0.1 * torch.randn_like(p) * (1 + p.abs().mean()))

state = {hf_name(k).replace("wav2vec2.", "data2vec_audio.", 1): v for k, v in model.state_dict().items()}
state["data2vec_audio.masked_spec_embed"] = torch.rand(HIDDEN)
directory = os.path.join(FIXTURES, "models", "data2vec_audio")
os.makedirs(directory, exist_ok=True)
write_safetensors(os.path.join(directory, "model.safetensors"), state, {"format": "pt"})
# Data2VecAudioConfig's own fields only: no feat_extract_norm or do_stable_layer_norm (the architecture fixes them).
config = {
    "architectures": ["Data2VecAudioForCTC"], "model_type": "data2vec-audio", "vocab_size": len(VOCAB), "hidden_size": HIDDEN,
    "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu",
    "feat_extract_activation": "gelu", "conv_dim": [c[0] for c in CONV], "conv_kernel": [c[1] for c in CONV],
    "conv_stride": [c[2] for c in CONV], "conv_bias": False, "num_conv_pos_embeddings": POS_LAYERS,
    "conv_pos_kernel_size": POS_KERNEL, "num_conv_pos_embedding_groups": GROUPS, "layer_norm_eps": 1e-5,
    "mask_time_prob": 0.05, "pad_token_id": 0, "ctc_loss_reduction": "sum",
}
write_model_files(directory, config, VOCAB, attention_mask=True)

audio = read_recording(os.path.join(FIXTURES, "reference_audio.wav"))
ref = reference_outputs(model, audio, stable=False)
write_safetensors(os.path.join(FIXTURES, "data2vec_audio.reference.safetensors"), ref,
                  {"torch": torch.__version__, "torchaudio": torchaudio.__version__, "positional": "data2vec-audio, written here"})
print("exported data2vec_audio frames", ref["logits"].shape[0])
