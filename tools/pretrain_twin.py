#!/usr/bin/python3
"""A PyTorch twin of w2v2's wav2vec 2.0 pre-training, for checking our training against an independent engine and for
continuing a run on many machines with PyTorch DDP.

The backbone is torchaudio's wav2vec2_model (Debian's PyTorch 1.13 / torchaudio 0.13); the Gumbel product quantizer,
masked-frame replacement, distractors and the loss (contrastive + codebook diversity + feature penalty) are written
here from fairseq's published semantics (wav2vec2.py, gumbel_vector_quantizer.py, wav2vec_criterion.py: read, not
copied) in the conventions of our C# model: masked rows per utterance in the same count, distractors as indices into
the batch's masked rows, a distractor whose codes equal the positive's scored -inf, the loss summed over masked frames.
It reads and writes our Hugging Face-format checkpoints (config.json + model.safetensors with the quantizer), so a run
moves between the engines in both directions, and logs train_log.jsonl with our field names.

  one-step check    /usr/bin/python3 tools/pretrain_twin.py step-fixture
                    writes tests/Wav2Vec2.Tests/Fixtures/pretraining_step.reference.safetensors: given masks,
                    distractors and Gumbel noise, in training mode (straight-through hard Gumbel, a tenth of the gradient
                    into the conv encoder), the loss terms and the gradient of every parameter
  training          /usr/bin/python3 tools/pretrain_twin.py train --model DIR --recipe recipe.json --data DIR|manifest.tsv --out RUN
                    [--resume]; recipe.json from `w2v2 pretrain --preset tiny --max-updates N --print-recipe`. On many
                    processes: /usr/bin/torchrun --nproc_per_node N tools/pretrain_twin.py train ... (DistributedDataParallel:
                    gloo on CPUs, NCCL on GPUs; each process takes every N-th batch, so an update sees update_freq x N
                    batches, fairseq's effective batch). Audio: 16 kHz WAV/FLAC (torchaudio's sox backend).
                    --dump DIR also writes every update's inputs (as `sample` does).
  inputs only       /usr/bin/python3 tools/pretrain_twin.py sample --model DIR --recipe recipe.json --data DIR --out INPUTS
                    writes what each update of a one-process run would train on (batches, crops, masks, distractors,
                    Gumbel noise, temperature, learning rate) in seconds, without training; `Wav2Vec2.Benchmarks
                    twin-replay` trains our engine on them (tools/twin-dynamics.sh).
"""
import argparse, json, math, os, random, sys, time, wave
import numpy as np
import torch
import torch.nn.functional as F
import torchaudio

# PyTorch 1.13's oneDNN (mkldnn) convolution backward gives wrong, thread-count-dependent weight gradients on the AMD
# Zen 5 (family 26) machines here (found by this twin's one-step check: not linear in the incoming gradient, different
# at 1 and 2 threads); the native convolution is right but slow, so the twin's convolutions are unfold + matmul
# (use_unfold_convolutions), and oneDNN stays off for anything else.
torch.backends.mkldnn.enabled = False

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blas_check import warn_if_reference_blas
from reference_common import hf_name, read_safetensors, sample_negatives, torchaudio_name, write_safetensors

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


def conv1d_unfold(x, weight, bias, stride, padding, groups):
    """A grouped 1-D convolution as unfold + matrix product: exact, fast on CPU, and no oneDNN (see above)."""
    if padding:
        x = F.pad(x, (padding, padding))
    b = x.shape[0]
    out, per_group, kernel = weight.shape
    columns = x.unfold(2, kernel, stride).reshape(b, groups, per_group, -1, kernel)          # (B, G, C/G, T', k)
    y = torch.einsum("bgctk,gock->bgot", columns, weight.view(groups, out // groups, per_group, kernel)).reshape(b, out, -1)
    return y if bias is None else y + bias[None, :, None]


def use_unfold_convolutions(backbone):
    convs = [layer.conv for layer in backbone.feature_extractor.conv_layers] + [backbone.encoder.transformer.pos_conv_embed.conv]
    for conv in convs:
        conv.forward = lambda x, c=conv: conv1d_unfold(x, c.weight, c.bias, c.stride[0], c.padding[0], c.groups)


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
        use_unfold_convolutions(self.backbone)
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
                   "correct": correct, "masked_frames": b * m, "blocked": int(same.sum()), "distractors": same.numel()}
        return loss, metrics


class FairseqAdam(torch.optim.Optimizer):
    """Adam as fairseq's adam.py computes it: eps added to the root of the uncorrected second moment (so before the
    bias correction, which goes into the step size), weight decay decoupled (p -= lr * wd * p)."""

    def __init__(self, params, lr, betas, eps, weight_decay):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                state["step"] += 1
                state["exp_avg"].mul_(b1).add_(p.grad, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                denominator = state["exp_avg_sq"].sqrt().add_(group["eps"])
                step_size = group["lr"] * math.sqrt(1 - b2 ** state["step"]) / (1 - b1 ** state["step"])
                p.mul_(1 - group["lr"] * group["weight_decay"])
                p.addcdiv_(state["exp_avg"], denominator, value=-step_size)


def load(directory, regularization):
    config = json.load(open(os.path.join(directory, "config.json")))
    model = TwinModel(config, regularization)
    model.load_hf(read_safetensors(os.path.join(directory, "model.safetensors")))
    return model


def forward(self, *args, **kwargs):
    return self.loss(*args, **kwargs)


TwinModel.forward = forward    # DistributedDataParallel reduces gradients of what runs through forward


def read_items(data):
    """(path, samples) of a directory's audio files (recursively) or of a fairseq manifest (root line, path<TAB>frames)."""
    if os.path.isdir(data):
        paths = sorted(os.path.join(d, f) for d, _, files in os.walk(data) for f in files if f.lower().endswith((".wav", ".flac")))
        return [(p, torchaudio.info(p).num_frames) for p in paths]
    lines = open(data).read().splitlines()
    root = lines[0].strip()
    return [(os.path.join(root, l.split("\t")[0]), int(l.split("\t")[1])) for l in lines[1:] if l.strip()]


def load_audio(path, normalize):
    wav, rate = torchaudio.load(path)
    if rate != 16000:
        raise SystemExit("%s: %d Hz; the twin reads 16 kHz audio" % (path, rate))
    wav = wav.mean(0)
    return F.layer_norm(wav, wav.shape) if normalize else wav      # fairseq's normalize: before cropping


def batches(items, recipe, rng):
    """fairseq's batching (batch_by_size): items sorted by length, a batch closed before its count x longest item
    (capped at max_sample_size) would pass max_tokens; each batch is cropped at random to its shortest item."""
    kept = sorted((i for i in items if i[1] >= recipe["min_sample_size"]), key=lambda i: (i[1], rng.random()))
    limit = recipe.get("max_sentences") or 1 << 30
    out, current, longest = [], [], 0
    for item in kept:
        size = min(item[1], recipe["max_sample_size"])
        if current and ((len(current) + 1) * max(longest, size) > recipe["max_tokens"] or len(current) >= limit):
            out.append(current)
            current, longest = [], 0
        current.append(item)
        longest = max(longest, size)
    if current:
        out.append(current)
    rng.shuffle(out)
    return out


def collate(batch, recipe, rng):
    waves = [load_audio(p, recipe["normalize"]) for p, _ in batch]
    size = min(min(len(w) for w in waves), recipe["max_sample_size"])
    starts = [rng.randint(0, len(w) - size) for w in waves]
    return torch.stack([w[s:s + size] for w, s in zip(waves, starts)])


def compute_mask(b, t, p, length, min_masks, rng):
    """fairseq's compute_mask_indices (static lengths, no overlap control) with require_same_masks: every row keeps a
    random subset of its masked frames, as many as the row with the fewest."""
    mask = np.zeros((b, t), dtype=bool)
    for i in range(b):
        spans = max(min_masks, int(p * t / float(length) + rng.random()))
        spans = min(spans, max(1, t - length))
        starts = rng.sample(range(max(1, t - length)), spans)
        for s in starts:
            mask[i, s:s + length] = True
    count = min(mask.sum(1))
    for i in range(b):                                                  # keep `count` of each row's masked frames, at random
        masked = np.flatnonzero(mask[i])
        mask[i, rng.sample(list(masked), len(masked) - count)] = False
    return torch.from_numpy(mask)


def temperature_at(recipe, update):
    return max(recipe["max_temp"] * recipe["temp_decay"] ** update, recipe["min_temp"])


def diversity_weight_at(recipe, update):
    """The diversity weight, rising linearly to final_diversity_loss_weight over the diversity_rise fractions of the run."""
    weight, final = recipe["diversity_loss_weight"], recipe.get("final_diversity_loss_weight")
    if final is None:
        return weight
    start, end = (f * recipe["max_update"] for f in recipe["diversity_rise"])
    progress = 1.0 if update >= end else 0.0 if update <= start else (update - start) / (end - start)
    return weight + (final - weight) * progress


def sampled_updates(items, recipe, config, seed, start, world=1, rank=0):
    """What every update of a run trains on in this process, from update `start` on: update_freq batches, each
    (input values, mask, distractors, Gumbel noise). Needs no model, so `sample` writes a run's inputs fast."""
    rng = random.Random(seed * 1000 + start)                       # the same batches on every process
    local = random.Random(seed * 1000 + start + 1 + rank)           # masks, distractors, crops: per process
    noise_source = torch.Generator().manual_seed(seed * 1000 + start + 2 + rank)
    groups, entries = config["num_codevector_groups"], config["num_codevectors_per_group"]
    queue = []
    for update in range(start, recipe["max_update"]):
        micro = []
        for _ in range(recipe["update_freq"]):
            while len(queue) < world:
                queue.extend(batches(items, recipe, rng))
            batch, queue = queue[rank], queue[world:]
            values = collate(batch, recipe, local)
            t = values.shape[1]
            for kernel, stride in zip(config["conv_kernel"], config["conv_stride"]):
                t = (t - kernel) // stride + 1
            mask = compute_mask(values.shape[0], t, recipe["mask_prob"], recipe["mask_length"], recipe["mask_min_masks"], local)
            m = int(mask.sum()) // values.shape[0]
            negatives = sample_negatives(values.shape[0], m, recipe["num_negatives"],
                                         lambda high, k: torch.tensor([local.randrange(high) for _ in range(k)]))
            noise = -torch.empty(values.shape[0] * m * groups, entries).exponential_(generator=noise_source).log()   # Gumbel(0, 1)
            micro.append((values, mask, negatives, noise))
        yield update, micro


def dump_update(directory, recipe, update, rank, micro):
    """One update's inputs as update-NNNNN-RANK-I.safetensors (what `Wav2Vec2.Benchmarks twin-replay` reads)."""
    os.makedirs(directory, exist_ok=True)
    for i, (values, mask, negatives, noise) in enumerate(micro):
        write_safetensors(os.path.join(directory, "update-%05d-%d-%d.safetensors" % (update + 1, rank, i)),
                          {"input_values": values, "mask": mask.float(), "negatives": negatives.float().view(-1), "noise": noise,
                           "temperature": torch.tensor(temperature_at(recipe, update)),
                           "lr": torch.tensor(learning_rate(recipe, update))}, {"format": "pt"})


def learning_rate(recipe, update):
    """fairseq's polynomial_decay after `update` updates; the next update trains at it (fairseq's trainer sets it with
    step_update(0) before the first update, so that one has learning rate 0 during warm-up)."""
    warmup, peak, end, total = recipe["warmup_updates"], recipe["lr"], recipe["end_learning_rate"], recipe["max_update"]
    if warmup > 0 and update <= warmup:
        return peak * update / warmup
    if update >= total:
        return end
    remaining = 1.0 - (update - warmup) / max(1, total - warmup)
    return (peak - end) * remaining ** recipe["power"] + end


def train(argv):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    parser = argparse.ArgumentParser(prog="pretrain_twin.py train")
    parser.add_argument("--model", required=True)
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--dump", help="write every batch's input, mask, distractors and Gumbel noise here (for replaying in w2v2)")
    args = parser.parse_args(argv)
    recipe = json.load(open(args.recipe))
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    seed = args.seed if args.seed is not None else recipe["seed"]
    torch.manual_seed(seed + rank)
    regularization = {"feat_proj_dropout": recipe["dropout_input"], "attention_dropout": recipe["attention_dropout"],
                      "activation_dropout": recipe["activation_dropout"], "hidden_dropout": recipe["dropout"],
                      "layerdrop": recipe["encoder_layerdrop"], "feat_quantizer_dropout": recipe["dropout_features"],
                      "feature_grad_mult": recipe["feature_grad_mult"]}
    start = 0
    source = args.model
    checkpoints = sorted((int(d.split("-")[1]), d) for d in (os.listdir(args.out) if os.path.isdir(args.out) else []) if d.startswith("checkpoint-"))
    if args.resume and checkpoints:
        start, name = checkpoints[-1]
        source = os.path.join(args.out, name)
    model = load(source, regularization)
    net = DistributedDataParallel(model) if world > 1 else model
    b1, b2 = recipe["adam_betas"]
    optimizer = (FairseqAdam if recipe.get("adam_eps_before_bias_correction") else torch.optim.AdamW)(
        model.parameters(), lr=recipe["lr"], betas=(b1, b2), eps=recipe["adam_eps"], weight_decay=recipe["weight_decay"])
    state_path = os.path.join(source, "twin_state.pt")
    if args.resume and os.path.exists(state_path):
        optimizer.load_state_dict(torch.load(state_path)["optimizer"])
    items = read_items(args.data)
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "train_log.jsonl"), "a") if rank == 0 else None
    preprocessor = {"do_normalize": recipe["normalize"], "feature_extractor_type": "Wav2Vec2FeatureExtractor", "feature_size": 1,
                    "padding_side": "right", "padding_value": 0.0, "return_attention_mask": model.config["feat_extract_norm"] == "layer",
                    "sampling_rate": 16000}
    model.train()
    clock = time.time()
    for update, micro in sampled_updates(items, recipe, model.config, seed, start, world, rank):
        temperature = temperature_at(recipe, update)
        totals = {"loss": 0.0, "contrastive_loss": 0.0, "correct": 0, "masked_frames": 0, "blocked": 0, "distractors": 0}
        last = {}
        seconds = 0
        if args.dump:
            dump_update(args.dump, recipe, update, rank, micro)
        for values, mask, negatives, noise in micro:
            seconds += values.numel() / 16000
            loss, metrics = net(values, mask, negatives, temperature, noise=noise, penalty_weight=recipe["feature_penalty_weight"],
                                diversity_weight=diversity_weight_at(recipe, update), logit_temp=recipe["logit_temp"])
            loss.backward()
            for key in totals:
                totals[key] += metrics[key]
            last = metrics
        # fairseq: the summed loss's gradient divided by the masked frames of the whole update (all processes).
        counts = torch.tensor([float(totals["masked_frames"]), totals["loss"], totals["contrastive_loss"], float(totals["correct"]),
                               float(totals["blocked"]), float(totals["distractors"])])
        if world > 1:
            dist.all_reduce(counts)                                   # DDP averaged the gradients over processes
        scale = world / counts[0].item()
        for p in model.parameters():
            if p.grad is not None:
                p.grad.mul_(scale)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), recipe["clip_norm"] if recipe["clip_norm"] > 0 else float("inf"))
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(recipe, update)
        optimizer.step()
        optimizer.zero_grad()
        done = update + 1
        if rank == 0 and (done % recipe["log_interval"] == 0 or done == recipe["max_update"]):
            bits = 1.0 / counts[0].item() / math.log(2)
            entry = {"split": "train", "update": done, "loss": round(counts[1].item() * bits, 6),
                     "contrastive_loss": round(counts[2].item() * bits, 6), "diversity_loss": round(last["diversity_loss"], 6),
                     "feature_penalty": round(last["feature_penalty"], 6), "accuracy": round(counts[3].item() / counts[0].item(), 6),
                     "code_perplexity": round(last["code_perplexity"], 3), "prob_perplexity": round(last["prob_perplexity"], 3),
                     "temperature": round(temperature, 6), "blocked_distractors": round(counts[4].item() / counts[5].item(), 6),
                     "lr": learning_rate(recipe, update), "grad_norm": round(float(norm), 6),
                     "audio_seconds_per_second": round(seconds * world / max(time.time() - clock, 1e-9), 3), "engine": "pytorch-twin",
                     "world_size": world}
            clock = time.time()
            log.write(json.dumps(entry) + "\n")
            log.flush()
            print("update %d/%d loss %.3f acc %.3f code_ppl %.1f" % (done, recipe["max_update"], entry["loss"], entry["accuracy"], entry["code_perplexity"]), flush=True)
        last_update = done == recipe["max_update"]
        if rank == 0 and ((recipe["save_interval"] > 0 and done % recipe["save_interval"] == 0) or last_update):
            directory = os.path.join(args.out, "final" if last_update else "checkpoint-%d" % done)
            model.save(directory, preprocessor)
            torch.save({"optimizer": optimizer.state_dict(), "update": done}, os.path.join(directory, "twin_state.pt"))
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def sample(argv):
    parser = argparse.ArgumentParser(prog="pretrain_twin.py sample")
    parser.add_argument("--model", required=True, help="a checkpoint directory (its config.json gives the frame rate and codebook)")
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    recipe = json.load(open(args.recipe))
    config = json.load(open(os.path.join(args.model, "config.json")))
    seed = args.seed if args.seed is not None else recipe["seed"]
    for update, micro in sampled_updates(read_items(args.data), recipe, config, seed, 0):
        dump_update(args.out, recipe, update, 0, micro)
    print("wrote the inputs of %d updates to %s" % (recipe["max_update"], args.out))


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
    negatives = sample_negatives(b, m, k, lambda high, count: torch.randint(0, high, (count,), generator=g))
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
    parser.add_argument("command", choices=["step-fixture", "train", "sample"])
    args, rest = parser.parse_known_args()
    warn_if_reference_blas()
    if args.command == "step-fixture":
        step_fixture()
    elif args.command == "sample":
        sample(rest)
    else:
        train(rest)
