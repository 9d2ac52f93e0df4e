#!/usr/bin/python3
"""A small MMS-style model (wav2vec 2.0 with a language adapter in every pre-LN Transformer layer and a CTC head per
language) in Hugging Face's layout, and reference outputs per language, for the C# adapter tests. torchaudio 0.13 has no
adapters and transformers is not installable here: each torchaudio encoder layer is wrapped with the adapter as Hugging
Face's Wav2Vec2AttnAdapterLayer defines it (checked against its published source): after the feed-forward,
x + linear_2(relu(linear_1(LayerNorm(x)))), the norm with torch's default eps. Output (committed):

  tests/Wav2Vec2.Tests/Fixtures/models/mms/      config.json (adapter_attn_dim 8), model.safetensors (the backbone with
        the "eng" adapters and head), adapter.eng.safetensors, adapter.fra.safetensors (other adapters, a 14-token head),
        vocab.json keyed by language, preprocessor_config.json
  tests/Wav2Vec2.Tests/Fixtures/mms.reference.safetensors   logits.eng, logits.fra, hidden_states.N.fra

Run from the repository root with Debian's PyTorch: /usr/bin/python3 tools/export_mms_reference.py"""
import json, os
import torch
import torchaudio

from reference_common import hf_name, read_recording, reference_outputs, small_model, write_model_files, write_safetensors

FIXTURES = "tests/Wav2Vec2.Tests/Fixtures"
VOCABS = {"eng": ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I", "H"],
          "fra": ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "S", "A", "I", "T", "N", "É", "È", "'"]}
CONV = [(24, 10, 5), (24, 3, 2), (24, 3, 2), (24, 2, 2)]
HIDDEN, ADAPTER = 32, 8


class Adapter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = torch.nn.LayerNorm(HIDDEN)
        self.linear_1 = torch.nn.Linear(HIDDEN, ADAPTER)
        self.linear_2 = torch.nn.Linear(ADAPTER, HIDDEN)

    def forward(self, x):
        return self.linear_2(torch.relu(self.linear_1(self.norm(x))))


class AdaptedLayer(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.adapter_layer = Adapter()

    def forward(self, x, *args, **kwargs):
        x = self.layer(x, *args, **kwargs)
        return x + self.adapter_layer(x)


def perturb(module):
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 * torch.randn_like(p) * (1 + p.abs().mean()))




torch.manual_seed(9)
model = small_model(CONV, HIDDEN, conv_bias=True, layer_norm_first=True, pos_kernel=15, pos_groups=4, vocab_size=len(VOCABS["eng"]))
layers = model.encoder.transformer.layers
for i in range(len(layers)):
    layers[i] = AdaptedLayer(layers[i])
perturb(model)
model.eval()


def hf_state(model):
    state = {}
    for k, v in model.state_dict().items():
        k = k.replace(".layer.", ".", 1) if ".layers." in k and ".layer." in k else k   # unwrap AdaptedLayer
        state[hf_name(k)] = v
    return state


def adapter_state(model):
    return {k: v for k, v in hf_state(model).items() if ".adapter_layer." in k or k.startswith("lm_head.")}


audio = read_recording(os.path.join(FIXTURES, "reference_audio.wav"))
directory = os.path.join(FIXTURES, "models", "mms")
os.makedirs(directory, exist_ok=True)
reference = {}
eng = adapter_state(model)
reference["logits.eng"] = reference_outputs(model, audio, stable=True)["logits"]
state = hf_state(model)
state["wav2vec2.masked_spec_embed"] = torch.rand(HIDDEN)
write_safetensors(os.path.join(directory, "model.safetensors"), state, {"format": "pt"})
write_safetensors(os.path.join(directory, "adapter.eng.safetensors"), eng, {"format": "pt"})

# French: other adapters, a head over a 14-token vocabulary; the backbone is untouched.
model.aux = torch.nn.Linear(HIDDEN, len(VOCABS["fra"]))
for layer in layers:
    layer.adapter_layer = Adapter()
    perturb(layer.adapter_layer)
perturb(model.aux)
model.eval()
write_safetensors(os.path.join(directory, "adapter.fra.safetensors"), adapter_state(model), {"format": "pt"})
fra = reference_outputs(model, audio, stable=True)
reference["logits.fra"] = fra["logits"]
for name, value in fra.items():
    if name.startswith("hidden_states."):
        reference[name + ".fra"] = value
write_safetensors(os.path.join(FIXTURES, "mms.reference.safetensors"), reference,
                  {"torch": torch.__version__, "torchaudio": torchaudio.__version__, "adapters": "Wav2Vec2AttnAdapterLayer, written here"})

config = {
    "architectures": ["Wav2Vec2ForCTC"], "model_type": "wav2vec2", "vocab_size": len(VOCABS["eng"]), "hidden_size": HIDDEN,
    "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu",
    "feat_extract_norm": "layer", "feat_extract_activation": "gelu", "conv_dim": [c[0] for c in CONV],
    "conv_kernel": [c[1] for c in CONV], "conv_stride": [c[2] for c in CONV], "conv_bias": True,
    "num_conv_pos_embeddings": 15, "num_conv_pos_embedding_groups": 4, "do_stable_layer_norm": True,
    "layer_norm_eps": 1e-5, "mask_time_prob": 0.05, "pad_token_id": 0, "ctc_loss_reduction": "sum", "adapter_attn_dim": ADAPTER,
}
write_model_files(directory, config, VOCABS["eng"], attention_mask=True)
with open(os.path.join(directory, "vocab.json"), "w") as f:   # MMS: one vocabulary per language
    json.dump({lang: {t: i for i, t in enumerate(tokens)} for lang, tokens in VOCABS.items()}, f, ensure_ascii=False)
print("exported mms frames", reference["logits.fra"].shape[0])
