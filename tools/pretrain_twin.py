#!/usr/bin/python3
"""A PyTorch twin of w2v2's wav2vec 2.0 pre-training, for checking our training against an independent engine and for
continuing a run on many machines with PyTorch DDP.

The backbone is torchaudio's wav2vec2_model (Debian's PyTorch 1.13 / torchaudio 0.13); the Gumbel product quantizer,
masked-frame replacement, distractors and the loss (contrastive + codebook diversity + feature penalty) are written
here from fairseq's published semantics (wav2vec2.py, gumbel_vector_quantizer.py, wav2vec_criterion.py: read, not
copied) in the conventions of our C# model: masked rows per utterance in the same count, distractors as indices into
the batch's masked rows, a distractor whose codes equal the positive's scored -inf, the loss summed over masked frames.
It reads and writes our Hugging Face-format checkpoints (config.json + model.safetensors with the quantizer).

  one-step check    /usr/bin/python3 tools/pretrain_twin.py step-fixture
                    writes tests/Wav2Vec2.Tests/Fixtures/pretraining_step.reference.safetensors: given masks,
                    distractors and Gumbel noise, in training mode (straight-through hard Gumbel, a tenth of the gradient
                    into the conv encoder), the loss terms and the gradient of every parameter
"""
import argparse, json, math, os, random, sys, time, wave
import numpy as np
import torch
import torch.nn.functional as F
import torchaudio

# PyTorch 1.13's oneDNN (mkldnn) convolution backward gives wrong, thread-count-dependent weight gradients on the AMD
# Zen 5 (family 26) machines here (found by this twin's one-step check: not linear in the incoming gradient, different
# at 1 and 2 threads); the native convolution is right, and matches ours and finite differences.
torch.backends.mkldnn.enabled = False

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_common import hf_name, read_safetensors, torchaudio_name, write_safetensors

FIXTURES = "tests/Wav2Vec2.Tests/Fixtures"
HEAD_NAMES = ("quantizer.codevectors", "quantizer.weight_proj.weight", "quantizer.weight_proj.bias", "project_q.weight",
              "project_q.bias", "project_hid.weight", "project_hid.bias", "wav2vec2.masked_spec_embed")


class GradMultiply(torch.autograd.Function):
    """Identity forward, gradient scaled by `scale` (fairseq's feature_grad_mult)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


class TwinModel(torch.nn.Module):
    """torchaudio's backbone plus the pre-training head, parameters under our (Hugging Face) names."""

    def __init__(self, config, regularization):
        super().__init__()
        self.config = dict(config)
        r = regularization
        self.backbone = torchaudio.models.wav2vec2_model(
            extractor_mode="layer_norm" if config["feat_extract_norm"] == "layer" else "group_norm",
            extractor_conv_layer_config=list(zip(config["conv_dim"], config["conv_kernel"], config["conv_stride"])),
            extractor_conv_bias=config["conv_bias"], encoder_embed_dim=config["hidden_size"],
            encoder_projection_dropout=r["feat_proj_dropout"], encoder_pos_conv_kernel=config["num_conv_pos_embeddings"],
            encoder_pos_conv_groups=config["num_conv_pos_embedding_groups"], encoder_num_layers=config["num_hidden_layers"],
            encoder_num_heads=config["num_attention_heads"], encoder_attention_dropout=r["attention_dropout"],
            encoder_ff_interm_features=config["intermediate_size"], encoder_ff_interm_dropout=r["activation_dropout"],
            encoder_dropout=r["hidden_dropout"], encoder_layer_norm_first=config["do_stable_layer_norm"],
            encoder_layer_drop=r["layerdrop"], aux_num_out=None)
        g, v, d = config["num_codevector_groups"], config["num_codevectors_per_group"], config["codevector_dim"]
        self.groups, self.entries = g, v
        self.codevectors = torch.nn.Parameter(torch.zeros(1, g * v, d // g))
        self.weight_proj = torch.nn.Linear(config["conv_dim"][-1], g * v)
        self.project_q = torch.nn.Linear(d, config["proj_codevector_dim"])
        self.project_hid = torch.nn.Linear(config["hidden_size"], config["proj_codevector_dim"])
        self.mask_emb = torch.nn.Parameter(torch.zeros(config["hidden_size"]))
        self.feature_dropout = r["feat_quantizer_dropout"]
        self.feature_grad_mult = r["feature_grad_mult"]

    # Our names <-> the modules' parameters.
    def named_hf(self):
        for name, p in self.backbone.named_parameters():
            yield hf_name(name), p
        yield from zip(HEAD_NAMES, (self.codevectors, self.weight_proj.weight, self.weight_proj.bias, self.project_q.weight,
                                    self.project_q.bias, self.project_hid.weight, self.project_hid.bias, self.mask_emb))

    def load_hf(self, tensors):
        with torch.no_grad():
            for name, p in self.named_hf():
                source = tensors[name]
                assert source.numel() == p.numel(), (name, source.shape, p.shape)
                p.copy_(source.reshape(p.shape))

    def save(self, directory, preprocessor):
        os.makedirs(directory, exist_ok=True)
        write_safetensors(os.path.join(directory, "model.safetensors"), {n: p.detach() for n, p in self.named_hf()}, {"format": "pt"})
        with open(os.path.join(directory, "config.json"), "w") as f:
            json.dump(dict(self.config, architectures=["Wav2Vec2ForPreTraining"]), f, indent=2)
        with open(os.path.join(directory, "preprocessor_config.json"), "w") as f:
            json.dump(preprocessor, f, indent=2)

    def loss(self, values, mask, negatives, temperature, noise=None, penalty_weight=10.0, diversity_weight=0.1, logit_temp=0.1):
        """Loss (summed over masked frames) and metrics. mask: (B, T) bool, the same count per row; negatives: (B M, K)
        indices into the masked rows; noise: Gumbel noise (B M G, V) to replay, else drawn as torch draws it."""
        feats, _ = self.backbone.feature_extractor(values, None)                  # (B, T, C)
        if self.training and self.feature_grad_mult != 1.0:
            feats = GradMultiply.apply(feats, self.feature_grad_mult)
        penalty = feats.pow(2).mean()
        projection = self.backbone.encoder.feature_projection
        normed = projection.layer_norm(feats)
        hidden = projection.dropout(projection.projection(normed))
        hidden = torch.where(mask[..., None], self.mask_emb.expand_as(hidden), hidden)
        context = self.backbone.encoder.transformer(hidden)                        # (B, T, H)
        b = values.shape[0]
        m = int(mask.sum()) // b
        latents = F.dropout(normed, self.feature_dropout, self.training)[mask].view(b * m, -1)
        x = self.project_hid(context[mask].view(b * m, -1))
        logits_q = self.weight_proj(latents).view(b * m * self.groups, self.entries)
        average = torch.softmax(logits_q.view(b * m, self.groups, -1).float(), -1).mean(0)
        prob_ppl = torch.exp(-torch.sum(average * torch.log(average + 1e-7), -1)).sum()
        if self.training:
            if noise is None:
                noise = -torch.empty_like(logits_q).exponential_().log()
            soft = torch.softmax((logits_q + noise) / temperature, -1)
            codes = soft.argmax(-1)
            hard = F.one_hot(codes, self.entries).to(soft.dtype)
            onehot = hard - soft.detach() + soft                                    # straight-through
        else:
            codes = logits_q.argmax(-1)
            onehot = F.one_hot(codes, self.entries).float()
        codes = codes.view(b * m, self.groups)
        # fairseq's code perplexity counts the argmax codes of the logits (before the Gumbel noise).
        counts = F.one_hot(logits_q.argmax(-1).view(b * m, self.groups), self.entries).float().mean(0)
        code_ppl = torch.exp(-torch.sum(counts * torch.log(counts + 1e-7), -1)).sum()
        chosen = onehot.view(b * m, self.groups, self.entries, 1) * self.codevectors.view(1, self.groups, self.entries, -1)
        y = self.project_q(chosen.sum(2).view(b * m, -1))
        k = negatives.shape[1]
        targets = torch.cat([y[:, None], y[negatives.reshape(-1)].view(b * m, k, -1)], 1)
        logits = F.cosine_similarity(x[:, None].float(), targets.float(), dim=-1) / logit_temp
        same = (codes[:, None] == codes[negatives]).all(-1)
        logits = torch.cat([logits[:, :1], logits[:, 1:].masked_fill(same, float("-inf"))], 1)
        contrastive = F.cross_entropy(logits, torch.zeros(b * m, dtype=torch.long), reduction="sum")
        codebook = self.groups * self.entries
        diversity = (codebook - prob_ppl) / codebook
        loss = contrastive + diversity_weight * diversity * b * m + penalty_weight * penalty * b * m
        correct = int(((logits.argmax(-1) == 0) & ~(logits.argmin(-1) == 0)).sum())
        metrics = {"loss": loss.item(), "contrastive_loss": contrastive.item(), "diversity_loss": diversity.item(),
                   "feature_penalty": penalty.item(), "prob_perplexity": prob_ppl.item(), "code_perplexity": code_ppl.item(),
                   "correct": correct, "masked_frames": b * m}
        return loss, metrics


def load(directory, regularization):
    config = json.load(open(os.path.join(directory, "config.json")))
    model = TwinModel(config, regularization)
    model.load_hf(read_safetensors(os.path.join(directory, "model.safetensors")))
    return model


def step_fixture():
    """The one-step check's reference: the pre-training fixture model in training mode without dropout."""
    zero = {"feat_proj_dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "hidden_dropout": 0.0,
            "layerdrop": 0.0, "feat_quantizer_dropout": 0.0, "feature_grad_mult": 0.1}
    model = load(os.path.join(FIXTURES, "models", "pretraining"), zero)
    model.train()
    with wave.open(os.path.join(FIXTURES, "reference_audio.wav")) as w:
        pcm = torch.frombuffer(bytearray(w.readframes(w.getnframes())), dtype=torch.int16).to(torch.float32) / 32768.0
    segments = [pcm[100:4900], pcm[4750:9550]]
    values = torch.stack([(s - s.mean()) / torch.sqrt(s.var(unbiased=False) + 1e-7) for s in segments])
    g = torch.Generator().manual_seed(17)
    with torch.no_grad():
        frames = model.backbone.feature_extractor(values, None)[0].shape[1]
    b, m, k = 2, 36, 6
    mask = torch.zeros(b, frames, dtype=torch.bool)
    for i in range(b):
        mask[i, torch.randperm(frames, generator=g)[:m]] = True
    negatives = torch.empty(b * m, k, dtype=torch.long)
    for i in range(b):
        for t in range(m):
            others = torch.randint(0, m - 1, (k,), generator=g)
            others[others >= t] += 1
            negatives[i * m + t] = i * m + others
    u = torch.rand(b * m * model.groups, model.entries, generator=g).clamp(1e-6, 1 - 1e-6)
    noise = -torch.log(-torch.log(u))
    temperature = 1.7
    loss, metrics = model.loss(values, mask, negatives, temperature, noise=noise, logit_temp=model.config["contrastive_logits_temperature"])
    loss.backward()
    reference = {"input_values": values, "mask": mask.float(), "negatives": negatives.float().view(-1), "noise": noise,
                 "temperature": torch.tensor([temperature])}
    for name in ("loss", "contrastive_loss", "diversity_loss", "feature_penalty", "prob_perplexity", "code_perplexity", "correct"):
        reference[name] = torch.tensor([float(metrics[name])])
    for name, p in model.named_hf():
        reference["grad." + name] = p.grad
    path = os.path.join(FIXTURES, "pretraining_step.reference.safetensors")
    write_safetensors(path, reference, {"torch": torch.__version__, "torchaudio": torchaudio.__version__})
    print("wrote %s: loss %.5f, %d masked frames, %d correct" % (path, metrics["loss"], metrics["masked_frames"], metrics["correct"]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["step-fixture"])
    args = parser.parse_args()
    step_fixture()
