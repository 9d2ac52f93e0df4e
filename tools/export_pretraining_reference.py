#!/usr/bin/python3
"""Evaluation-mode wav2vec 2.0 pre-training loss terms computed with Debian's PyTorch, for the C# parity test.

Builds a small torchaudio backbone (group-norm conv encoder, post-LN Transformer), adds a Gumbel quantizer
(G=2 codebooks of V=8 entries, codevector_dim 16), project_q and project_hid written here in plain torch, perturbs every
parameter, and writes a Hugging Face Wav2Vec2ForPreTraining directory plus, for two 0.3 s utterances of the reference
recording, the given mask and distractor indices and fairseq's loss terms (argmax quantization, no dropout):

  tests/Wav2Vec2.Tests/Fixtures/models/pretraining/
  tests/Wav2Vec2.Tests/Fixtures/pretraining.reference.safetensors

Run from the repository root after tools/export_reference.py: /usr/bin/python3 tools/export_pretraining_reference.py"""
import json, os, wave
import torch
import torch.nn.functional as F
import torchaudio

from reference_common import hf_name, sample_negatives, write_safetensors

FIXTURES = "tests/Wav2Vec2.Tests/Fixtures"
CONV = [(24, 10, 5), (24, 3, 2), (24, 3, 2), (24, 2, 2)]
G, V, CODE_DIM, PROJ_DIM, K, KAPPA = 2, 8, 16, 12, 5, 0.1


torch.manual_seed(5)
model = torchaudio.models.wav2vec2_model(
    extractor_mode="group_norm", extractor_conv_layer_config=CONV, extractor_conv_bias=False, encoder_embed_dim=32,
    encoder_projection_dropout=0.0, encoder_pos_conv_kernel=16, encoder_pos_conv_groups=4, encoder_num_layers=2,
    encoder_num_heads=4, encoder_attention_dropout=0.0, encoder_ff_interm_features=64, encoder_ff_interm_dropout=0.0,
    encoder_dropout=0.0, encoder_layer_norm_first=False, encoder_layer_drop=0.0, aux_num_out=None).eval()
weight_proj = torch.nn.Linear(24, G * V)
codevectors = torch.nn.Parameter(torch.rand(1, G * V, CODE_DIM // G))
project_q = torch.nn.Linear(CODE_DIM, PROJ_DIM)
project_hid = torch.nn.Linear(32, PROJ_DIM)
mask_emb = torch.nn.Parameter(torch.rand(32))
with torch.no_grad():
    for p in list(model.parameters()) + list(weight_proj.parameters()) + list(project_q.parameters()) + list(project_hid.parameters()):
        p.add_(0.1 * torch.randn_like(p) * (1 + p.abs().mean()))

state = {hf_name(k): v for k, v in model.state_dict().items()}
state.update({"wav2vec2.masked_spec_embed": mask_emb, "quantizer.codevectors": codevectors,
              "quantizer.weight_proj.weight": weight_proj.weight, "quantizer.weight_proj.bias": weight_proj.bias,
              "project_q.weight": project_q.weight, "project_q.bias": project_q.bias,
              "project_hid.weight": project_hid.weight, "project_hid.bias": project_hid.bias})
directory = os.path.join(FIXTURES, "models", "pretraining")
os.makedirs(directory, exist_ok=True)
write_safetensors(os.path.join(directory, "model.safetensors"), state, {"format": "pt"})
config = {"architectures": ["Wav2Vec2ForPreTraining"], "model_type": "wav2vec2", "hidden_size": 32, "num_hidden_layers": 2,
          "num_attention_heads": 4, "intermediate_size": 64, "feat_extract_norm": "group", "conv_bias": False,
          "conv_dim": [c[0] for c in CONV], "conv_kernel": [c[1] for c in CONV], "conv_stride": [c[2] for c in CONV],
          "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4, "do_stable_layer_norm": False,
          "num_codevector_groups": G, "num_codevectors_per_group": V, "codevector_dim": CODE_DIM,
          "proj_codevector_dim": PROJ_DIM, "num_negatives": K, "contrastive_logits_temperature": KAPPA,
          "diversity_loss_weight": 0.1, "mask_time_prob": 0.65, "mask_time_length": 10, "vocab_size": 12}
with open(os.path.join(directory, "config.json"), "w") as f:
    json.dump(config, f, indent=2)

with wave.open(os.path.join(FIXTURES, "reference_audio.wav")) as w:
    pcm = torch.frombuffer(bytearray(w.readframes(w.getnframes())), dtype=torch.int16).to(torch.float32) / 32768.0
segments = [pcm[:4800], pcm[4800:9600]]
values = torch.stack([(s - s.mean()) / torch.sqrt(s.var(unbiased=False) + 1e-7) for s in segments])

with torch.no_grad():
    feats, _ = model.feature_extractor(values, None)                  # (B, T, C)
    B, T, C = feats.shape
    penalty = feats.pow(2).mean()
    normed = model.encoder.feature_projection.layer_norm(feats)
    hidden = model.encoder.feature_projection.projection(normed)
    g = torch.Generator().manual_seed(3)
    mask = torch.zeros(B, T, dtype=torch.bool)
    for b in range(B):                                                # the same number of masked frames per utterance
        mask[b, torch.randperm(T, generator=g)[:40]] = True
    hidden[mask] = mask_emb
    h = model.encoder.transformer._preprocess(hidden)
    for layer in model.encoder.transformer.layers:
        h = layer(h)
    M = 40
    context = h[mask].view(B * M, -1)
    latents = normed[mask].view(B * M, -1)
    logits_q = weight_proj(latents).view(B * M, G, V)
    avg = torch.softmax(logits_q, -1).mean(0)
    prob_ppl = torch.exp(-torch.sum(avg * torch.log(avg + 1e-7), -1)).sum()
    codes = logits_q.argmax(-1)
    hard = F.one_hot(codes, V).float()
    code_ppl = torch.exp(-torch.sum(hard.mean(0) * torch.log(hard.mean(0) + 1e-7), -1)).sum()
    q = (hard[..., None] * codevectors.view(G, V, -1)).sum(-2).view(B * M, -1)
    y = project_q(q)
    x = project_hid(context)
    neg = sample_negatives(B, M, K, lambda high, count: torch.randint(0, high, (count,), generator=g))
    negs = y[neg.view(-1)].view(B * M, K, -1)
    targets = torch.cat([y[:, None], negs], 1)
    logits = F.cosine_similarity(x[:, None].float(), targets.float(), dim=-1) / KAPPA
    # A distractor whose codes equal the positive's is the same target (fairseq compares the vectors; comparing the codes
    # is the same test without depending on how a BLAS rounds identical rows).
    neg_is_pos = (codes[:, None] == codes[neg]).all(-1)
    logits[:, 1:][neg_is_pos] = float("-inf")
    contrastive = F.cross_entropy(logits, torch.zeros(B * M, dtype=torch.long), reduction="sum")
    diversity = (G * V - prob_ppl) / (G * V)
    loss = contrastive + 0.1 * diversity * B * M + 10 * penalty * B * M
    correct = ((logits.argmax(-1) == 0) & ~(logits.argmin(-1) == 0)).sum()

ref = {"input_values": values, "mask": mask.float(), "negatives": neg.float().view(-1), "loss": loss.reshape(1),
       "contrastive_loss": contrastive.reshape(1), "diversity_loss": diversity.reshape(1), "feature_penalty": penalty.reshape(1),
       "prob_perplexity": prob_ppl.reshape(1), "code_perplexity": code_ppl.reshape(1), "correct": correct.float().reshape(1),
       "logits": logits.clamp(min=-1e30)}
write_safetensors(os.path.join(FIXTURES, "pretraining.reference.safetensors"), ref, {"torch": torch.__version__})
print("loss %.4f contrastive %.4f diversity %.4f penalty %.4f correct %d" % (loss, contrastive, diversity, penalty, correct))
