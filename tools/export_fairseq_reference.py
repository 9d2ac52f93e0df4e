#!/usr/bin/python3
"""Small fairseq wav2vec 2.0 checkpoints (.pt) written in fairseq's layout from torchaudio models, with reference outputs,
for the C# tests of FairseqCheckpoint. fairseq itself is not installable here: the files are laid out as fairseq's
checkpoint_utils/trainer save them (read, not copied), in the three forms released checkpoints come in:

  pretrained_args.pt           torch.save's legacy format (before PyTorch 1.6), `args` an argparse.Namespace (arch
                               wav2vec2; group-norm conv, post-LN; normalize false), with the quantizer, project_q,
                               final_proj and mask_emb, and numpy scalars in extra_state: wav2vec_small.pt's form
  ctc_args/checkpoint.pt       legacy format, `args` (arch wav2vec_ctc) with the pre-training Namespace in w2v_args,
                               weights under w2v_encoder.w2v_model. and w2v_encoder.proj; dict.ltr.txt beside:
                               wav2vec_small_960h.pt's form
  ctc_dictconfig/checkpoint.pt zip format, `cfg` a pickled omegaconf DictConfig (model._name wav2vec_ctc, the
                               pre-training config in model.w2v_args; layer-norm conv, pre-LN, normalize true);
                               dict.ltr.txt beside: the late-2020 (xlsr_53) form
  ctc_dict_cfg/checkpoint.pt   zip format, `cfg` a plain dict, the vocabulary inside as task_state's
                               fairseq.data.dictionary.Dictionary (a stand-in class of that name), no dict.ltr.txt:
                               the 2021+ (XLS-R) form

Bad inputs (tiny, no weights): bad/seq2seq.pt (a wav2vec_seq2seq model), bad/no_w2v_args.pt (a fine-tuned cfg
without its pre-training configuration), bad/conformer.pt (layer_type conformer), bad/evil.pt (a cfg value that
calls os.system when Python unpickles it: the reader must refuse it without running it).

Reference outputs (<name>.reference.safetensors): input_values, hidden_states.N and, for CTC models, logits, from the
torchaudio model the checkpoint was written from. Torchaudio -> fairseq names are the inverse of torchaudio's
import_fairseq_model mapping. Run from the repository root with Debian's PyTorch and python3-omegaconf:
/usr/bin/python3 tools/export_fairseq_reference.py"""
import argparse, collections, os, sys, types
import numpy as np
import torch
from omegaconf import OmegaConf

from reference_common import read_recording, reference_outputs, small_model, write_safetensors

FIXTURES = "tests/Wav2Vec2.Tests/Fixtures"
OUT = os.path.join(FIXTURES, "fairseq")
CONV = [(24, 10, 5), (24, 3, 2), (24, 3, 2), (24, 2, 2)]
CONV_STRING = "[(24, 10, 5)] + [(24, 3, 2)] * 2 + [(24, 2, 2)]"
HIDDEN, HEADS, FFN, POS, POS_GROUPS = 32, 4, 64, 16, 4
LETTERS = ["|", "E", "T", "A", "O", "N", "I", "H", "S", "R"]       # dict.ltr.txt's symbols, most frequent first
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]                        # fairseq's Dictionary: <s> (the CTC blank) is 0


def fairseq_name(name, group_norm):
    """A torchaudio wav2vec2_model parameter name as fairseq's Wav2Vec2Model spells it (aux is the CTC projection)."""
    rules = [("encoder.feature_projection.layer_norm.", "layer_norm."),
             ("encoder.feature_projection.projection.", "post_extract_proj."),
             ("encoder.transformer.pos_conv_embed.conv.", "encoder.pos_conv.0."),
             ("encoder.transformer.layer_norm.", "encoder.layer_norm."),
             ("encoder.transformer.layers.", "encoder.layers.")]
    for old, new in rules:
        if name.startswith(old):
            name = new + name[len(old):]
    for old, new in ((".attention.", ".self_attn."), (".feed_forward.intermediate_dense.", ".fc1."),
                     (".feed_forward.output_dense.", ".fc2.")):
        name = name.replace(old, new)
    if name.startswith("encoder.layers.") and ".layer_norm." in name and ".final_layer_norm." not in name:
        name = name.replace(".layer_norm.", ".self_attn_layer_norm.")
    if name.startswith("feature_extractor.conv_layers."):
        name = name.replace(".conv.", ".0.").replace(".layer_norm.", ".2." if group_norm else ".2.1.")
    return name


def build(seed, stable, vocab_size):
    torch.manual_seed(seed)
    model = small_model(CONV, HIDDEN, conv_bias=stable, layer_norm_first=stable, pos_kernel=POS, pos_groups=POS_GROUPS,
                        vocab_size=vocab_size, extractor_mode="layer_norm" if stable else "group_norm")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p) * (1 + p.abs().mean()))
    return model.eval()


def backbone_state(model, stable, prefix=""):
    state = collections.OrderedDict((prefix + fairseq_name(k, not stable), v.clone())
                                    for k, v in model.state_dict().items() if not k.startswith("aux."))
    state[prefix + "mask_emb"] = torch.rand(HIDDEN)
    return state


def architecture(stable):
    """The pre-training model's fields, as fairseq's Wav2Vec2Config names them."""
    return {
        "extractor_mode": "layer_norm" if stable else "default", "conv_feature_layers": CONV_STRING, "conv_bias": stable,
        "encoder_layers": 2, "encoder_embed_dim": HIDDEN, "encoder_ffn_embed_dim": FFN, "encoder_attention_heads": HEADS,
        "activation_fn": "gelu", "layer_norm_first": stable, "conv_pos": POS, "conv_pos_groups": POS_GROUPS,
        "dropout": 0.1, "attention_dropout": 0.1, "activation_dropout": 0.0, "encoder_layerdrop": 0.05,
        "dropout_input": 0.1, "dropout_features": 0.1, "final_dim": 12, "latent_vars": 8, "latent_groups": 2,
        "latent_dim": 16, "quantize_targets": True, "quantize_input": False, "same_quantizer": False, "target_glu": False,
        "feature_grad_mult": 0.1, "mask_length": 10, "mask_prob": 0.65, "mask_channel_prob": 0.0, "num_negatives": 100,
        "logit_temp": 0.1, "latent_temp": "(2,0.5,0.999995)", "layer_type": "transformer", "pos_conv_depth": 1,
    }


def finetuning_fields():
    return {"w2v_path": "/checkpoint/pretrained/checkpoint_best.pt", "apply_mask": True, "mask_prob": 0.5,
            "mask_length": 10, "mask_channel_prob": 0.1, "mask_channel_length": 64, "final_dropout": 0.05,
            "layerdrop": 0.1, "dropout": 0.0, "activation_dropout": 0.1, "attention_dropout": 0.0,
            "feature_grad_mult": 0.0, "freeze_finetune_updates": 10000, "normalize": None}


def write_dict(directory):
    with open(os.path.join(directory, "dict.ltr.txt"), "w") as f:
        for i, letter in enumerate(LETTERS):
            f.write("%s %d\n" % (letter, 1000 - 50 * i))


def save_reference(name, model, normalize, stable, ctc):
    audio = read_recording(os.path.join(FIXTURES, "reference_audio.wav"))
    ref = reference_outputs(model, audio, stable=stable, normalize=normalize)
    ref = {k: v for k, v in ref.items() if k == "input_values" or k.startswith("hidden_states.") or (ctc and k == "logits")}
    write_safetensors(os.path.join(OUT, name + ".reference.safetensors"), ref, {"torch": torch.__version__})


def history():
    return [{"criterion_name": "CtcCriterion", "optimizer_name": "FairseqAdam", "lr_scheduler_state": {"best": None},
             "num_updates": 20000}]


def extra_state():
    # numpy scalars, as fairseq's meters and best-checkpoint bookkeeping leave them
    return {"best": np.float64(12.5), "train_iterator": {"epoch": 3, "iterations_in_epoch": 17}, "val_loss": np.float32(3.25)}


os.makedirs(OUT, exist_ok=True)
vocab = len(SPECIALS) + len(LETTERS)

# 1. Pre-trained, legacy format, args Namespace (wav2vec_small.pt).
model = build(21, stable=False, vocab_size=None)
state = backbone_state(model, stable=False)
state["quantizer.vars"] = torch.randn(1, 16, 8)
state["quantizer.weight_proj.weight"] = torch.randn(16, 24) * 0.2
state["quantizer.weight_proj.bias"] = torch.randn(16) * 0.1
state["project_q.weight"] = torch.randn(12, 16) * 0.2
state["project_q.bias"] = torch.randn(12) * 0.1
state["final_proj.weight"] = torch.randn(12, HIDDEN) * 0.2
state["final_proj.bias"] = torch.randn(12) * 0.1
args = argparse.Namespace(arch="wav2vec2", task="audio_pretraining", criterion="wav2vec", normalize=False,
                          sample_rate=16000, max_sample_size=250000, lr=[0.0005], **architecture(False))
torch.save({"args": args, "model": state, "optimizer_history": history(), "extra_state": extra_state()},
           os.path.join(OUT, "pretrained_args.pt"), _use_new_zipfile_serialization=False)
save_reference("pretrained_args", model, normalize=False, stable=False, ctc=False)

# 2. CTC fine-tuned, legacy format, args with the pre-training Namespace inside (wav2vec_small_960h.pt).
model = build(22, stable=False, vocab_size=vocab)
state = backbone_state(model, stable=False, prefix="w2v_encoder.w2v_model.")
state["w2v_encoder.proj.weight"] = model.aux.weight.clone()
state["w2v_encoder.proj.bias"] = model.aux.bias.clone()
pretraining = argparse.Namespace(arch="wav2vec2", task="audio_pretraining", normalize=False, **architecture(False))
args = argparse.Namespace(arch="wav2vec_ctc", task="audio_pretraining", criterion="ctc", labels="ltr", normalize=False,
                          w2v_args=pretraining, **{k: v for k, v in finetuning_fields().items() if k != "normalize"})
os.makedirs(os.path.join(OUT, "ctc_args"), exist_ok=True)
torch.save({"args": args, "model": state, "optimizer_history": history(), "extra_state": extra_state()},
           os.path.join(OUT, "ctc_args", "checkpoint.pt"), _use_new_zipfile_serialization=False)
write_dict(os.path.join(OUT, "ctc_args"))
save_reference("ctc_args", model, normalize=False, stable=False, ctc=True)

# 3. CTC fine-tuned, zip format, cfg a pickled DictConfig (the late-2020 form), pre-LN layer-norm model.
model = build(23, stable=True, vocab_size=vocab)
state = backbone_state(model, stable=True, prefix="w2v_encoder.w2v_model.")
state["w2v_encoder.proj.weight"] = model.aux.weight.clone()
state["w2v_encoder.proj.bias"] = model.aux.bias.clone()
w2v_args = {"_name": None, "common": {"fp16": True, "log_interval": 200}, "task": {"_name": "audio_pretraining",
            "data": "/data/pretrain", "normalize": True, "sample_rate": 16000, "labels": None},
            "model": dict(_name="wav2vec2", **architecture(True)),
            "criterion": {"_name": "wav2vec", "infonce": True, "loss_weights": [0.1, 0.0], "log_keys": ["prob_perplexity"]}}
cfg = {"_name": None, "common": {"fp16": True, "seed": 1},
       "task": {"_name": "audio_pretraining", "data": "/data/finetune", "labels": "ltr", "normalize": True},
       "model": dict(_name="wav2vec_ctc", w2v_args=w2v_args, **dict(finetuning_fields(), normalize=True)),
       "criterion": {"_name": "ctc", "zero_infinity": True, "post_process": "letter"},
       "optimization": {"max_update": 20000, "lr": [3e-05], "sentence_avg": True}}
cfg = OmegaConf.create(cfg)
OmegaConf.set_struct(cfg, True)
os.makedirs(os.path.join(OUT, "ctc_dictconfig"), exist_ok=True)
torch.save({"cfg": cfg, "args": None, "model": state, "optimizer_history": history(), "extra_state": extra_state()},
           os.path.join(OUT, "ctc_dictconfig", "checkpoint.pt"))
write_dict(os.path.join(OUT, "ctc_dictconfig"))
save_reference("ctc_dictconfig", model, normalize=True, stable=True, ctc=True)

# 4. CTC fine-tuned, zip format, cfg a plain dict and the vocabulary inside (task_state), post-LN group-norm model.
dictionary_module = types.ModuleType("fairseq.data.dictionary")


class Dictionary:
    """Stands in for fairseq.data.dictionary.Dictionary: the attributes its pickled state holds."""

    def __init__(self, symbols):
        self.bos_word, self.unk_word, self.pad_word, self.eos_word = "<s>", "<unk>", "<pad>", "</s>"
        self.symbols = list(symbols)
        self.count = [1] * len(symbols)
        self.indices = {s: i for i, s in enumerate(symbols)}
        self.bos_index, self.pad_index, self.eos_index, self.unk_index = 0, 1, 2, 3
        self.nspecial = 4


Dictionary.__module__ = "fairseq.data.dictionary"
dictionary_module.Dictionary = Dictionary
for name in ("fairseq", "fairseq.data"):
    sys.modules.setdefault(name, types.ModuleType(name))
sys.modules["fairseq.data.dictionary"] = dictionary_module

model = build(24, stable=False, vocab_size=vocab)
state = backbone_state(model, stable=False, prefix="w2v_encoder.w2v_model.")
state["w2v_encoder.proj.weight"] = model.aux.weight.clone()
state["w2v_encoder.proj.bias"] = model.aux.bias.clone()
w2v_args["task"]["normalize"] = False
w2v_args["model"] = dict(_name="wav2vec2", **architecture(False))
cfg = {"_name": None, "common": {"fp16": True, "seed": 1},
       "task": {"_name": "audio_finetuning", "data": "/data/finetune", "labels": "ltr", "normalize": False},
       "model": dict(_name="wav2vec_ctc", w2v_args=w2v_args, **dict(finetuning_fields(), normalize=False)),
       "criterion": {"_name": "ctc", "zero_infinity": True, "post_process": "letter"}}
os.makedirs(os.path.join(OUT, "ctc_dict_cfg"), exist_ok=True)
torch.save({"args": None, "cfg": cfg, "model": state, "criterion": None, "optimizer_history": history(),
            "task_state": {"target_dictionary": Dictionary(SPECIALS + LETTERS)}, "extra_state": extra_state()},
           os.path.join(OUT, "ctc_dict_cfg", "checkpoint.pt"))
save_reference("ctc_dict_cfg", model, normalize=False, stable=False, ctc=True)
# Bad inputs: configurations this library refuses, and a pickle that would run a command.
os.makedirs(os.path.join(OUT, "bad"), exist_ok=True)


def bad(name, model_cfg):
    cfg = {"task": {"_name": "audio_finetuning", "normalize": False}, "model": model_cfg}
    torch.save({"args": None, "cfg": cfg, "model": collections.OrderedDict()}, os.path.join(OUT, "bad", name))


bad("seq2seq.pt", dict(_name="wav2vec_seq2seq", w2v_args=w2v_args, decoder_layers=6))
bad("no_w2v_args.pt", dict(_name="wav2vec_ctc", w2v_args=None, w2v_path="/checkpoint/pretrained/checkpoint_best.pt"))
bad("conformer.pt", dict(_name="wav2vec_ctc", w2v_args=dict(w2v_args, model=dict(w2v_args["model"], layer_type="conformer"))))


class Command:
    def __reduce__(self):
        return os.system, ("touch /tmp/wav2vec2-fairseq-pwned",)


bad("evil.pt", dict(_name="wav2vec_ctc", w2v_args=Command()))
print("exported fairseq checkpoints to", OUT)
