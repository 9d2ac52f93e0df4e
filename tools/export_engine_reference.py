#!/usr/bin/python3
"""Writes tests/Wav2Vec2.Tests/Fixtures/engine_reference.safetensors: inputs, outputs and input gradients of every
engine op computed by PyTorch (Debian's python3-torch), for the parity tests. Run from the repository root:
    /usr/bin/python3 tools/export_engine_reference.py
Each op's gradients are those of sum(output * <op>.gout). Integer inputs (indices, targets) are stored as float32."""
import json, struct, sys
import torch
import torch.nn.functional as F

torch.manual_seed(1234)
out = {}

def put(name, tensor):
    out[name] = tensor.detach().to(torch.float32).clone().contiguous()

def leaf(name, *shape, scale=1.0):
    t = (torch.randn(*shape) * scale).requires_grad_(True)
    put(name, t)
    return t

def backward(op, result, *inputs):
    gout = torch.randn(result.shape)
    put(op + ".gout", gout)
    put(op + ".out", result)
    (result * gout).sum().backward()
    for name, t in inputs:
        put(op + ".grad_" + name, t.grad)

# linear
x, w, b = leaf("linear.x", 3, 4, 5), leaf("linear.w", 6, 5), leaf("linear.b", 6)
backward("linear", F.linear(x, w, b), ("x", x), ("w", w), ("b", b))

# batched matmul, plain and with the second operand transposed
a, bb = leaf("matmul.a", 2, 3, 4), leaf("matmul.b", 2, 4, 5)
backward("matmul", a @ bb, ("a", a), ("b", bb))
a, bb = leaf("matmul_tb.a", 2, 3, 4), leaf("matmul_tb.b", 2, 5, 4)
backward("matmul_tb", a @ bb.transpose(1, 2), ("a", a), ("b", bb))

# conv1d: grouped, strided, padded; and the wav2vec 2.0 first-layer shape (1 input channel, kernel 10, stride 5)
x, w, b = leaf("conv.x", 2, 4, 20), leaf("conv.w", 6, 2, 3), leaf("conv.b", 6)
backward("conv", F.conv1d(x, w, b, stride=2, padding=1, groups=2), ("x", x), ("w", w), ("b", b))
x, w = leaf("conv_first.x", 1, 1, 50), leaf("conv_first.w", 4, 1, 10)
backward("conv_first", F.conv1d(x, w, None, stride=5), ("x", x), ("w", w))

# group norm: 3 groups of 2 channels, and one group per channel (fairseq's "group" feature-extractor norm)
for op, groups in (("groupnorm", 3), ("groupnorm_per_channel", 6)):
    x, g, b = leaf(op + ".x", 2, 6, 7, scale=3.0), leaf(op + ".gamma", 6), leaf(op + ".beta", 6)
    backward(op, F.group_norm(x + 1.5, groups, g, b, eps=1e-5), ("x", x), ("gamma", g), ("beta", b))

# layer norm over the last dim, and over channels of a (batch, channels, time) conv output
x, g, b = leaf("layernorm.x", 3, 5, 8, scale=2.0), leaf("layernorm.gamma", 8), leaf("layernorm.beta", 8)
backward("layernorm", F.layer_norm(x, (8,), g, b, eps=1e-5), ("x", x), ("gamma", g), ("beta", b))
x, g, b = leaf("layernorm_channels.x", 2, 8, 5), leaf("layernorm_channels.gamma", 8), leaf("layernorm_channels.beta", 8)
y = F.layer_norm(x.transpose(1, 2), (8,), g, b, eps=1e-5).transpose(1, 2)
backward("layernorm_channels", y, ("x", x), ("gamma", g), ("beta", b))

# exact GELU over a wide range
x = (torch.linspace(-6, 6, 97)).requires_grad_(True)
put("gelu.x", x)
backward("gelu", F.gelu(x), ("x", x))

x = leaf("softmax.x", 4, 7, scale=3.0)
backward("softmax", torch.softmax(x, -1), ("x", x))
x = leaf("log_softmax.x", 4, 7, scale=3.0)
backward("log_softmax", torch.log_softmax(x, -1), ("x", x))

# multi-head attention over projected q, k, v with a key padding mask (batch 1: last 2 keys padded)
q, k, v = leaf("attention.q", 2, 5, 8), leaf("attention.k", 2, 5, 8), leaf("attention.v", 2, 5, 8)
mask = torch.zeros(2, 5, dtype=torch.bool)
mask[1, 3:] = True
put("attention.mask", mask.float())
heads, d = 2, 4
def split(t):
    return t.view(2, 5, heads, d).transpose(1, 2)
scores = split(q) @ split(k).transpose(-1, -2) / d ** 0.5
scores = scores.masked_fill(mask[:, None, None, :], float("-inf"))
att = (torch.softmax(scores, -1) @ split(v)).transpose(1, 2).reshape(2, 5, 8)
backward("attention", att, ("q", q), ("k", k), ("v", v))

# broadcasting element-wise ops
a, bb = leaf("add.a", 2, 3, 4), leaf("add.b", 3, 1)
backward("add", a + bb, ("a", a), ("b", bb))
a, bb = leaf("mul.a", 2, 3, 4), leaf("mul.b", 4)
backward("mul", a * bb, ("a", a), ("b", bb))
a, bb = leaf("sub.a", 2, 3, 4), leaf("sub.b", 2, 1, 4)
backward("sub", a - bb, ("a", a), ("b", bb))

# shape ops
x = leaf("transpose.x", 2, 3, 4)
backward("transpose", x.transpose(0, 2).contiguous(), ("x", x))
x = leaf("slice.x", 3, 6)
backward("slice", x[:, 2:5], ("x", x))
x = leaf("index_select.x", 5, 3)
idx = torch.tensor([4, 0, 0, 2])
put("index_select.indices", idx.float())
backward("index_select", x.index_select(0, idx), ("x", x))
x, y = leaf("concat.x", 2, 3), leaf("concat.y", 2, 2)
backward("concat", torch.cat([x, y], 1), ("x", x), ("y", y))

# reductions
x = leaf("sum_dim.x", 3, 4, 5)
backward("sum_dim", x.sum(1), ("x", x))
x = leaf("mean_dim.x", 3, 4, 5)
backward("mean_dim", x.mean(1, keepdim=True), ("x", x))

# losses
a, bb = leaf("cosine.a", 4, 6), leaf("cosine.b", 4, 6)
backward("cosine", F.cosine_similarity(a, bb, dim=-1), ("a", a), ("b", bb))
logits = leaf("cross_entropy.logits", 6, 5, scale=2.0)
targets = torch.tensor([1, 0, 4, -100, 2, 2])
put("cross_entropy.targets", targets.float())
for op, reduction in (("cross_entropy", "mean"), ("cross_entropy_sum", "sum")):
    if logits.grad is not None:
        logits.grad = None
    if op == "cross_entropy_sum":
        put(op + ".logits", logits)
        put(op + ".targets", targets.float())
    backward(op, F.cross_entropy(logits, targets, ignore_index=-100, reduction=reduction), ("logits", logits))

# weight norm (PyTorch's _weight_norm): over all dims but 2, as the positional conv of wav2vec 2.0; and dim 0
for op, dim, gshape in (("weight_norm", 2, (1, 1, 5)), ("weight_norm_dim0", 0, (6, 1, 1))):
    v, g = leaf(op + ".v", 6, 2, 5), leaf(op + ".g", *gshape)
    backward(op, torch._weight_norm(v, g, dim), ("v", v), ("g", g))

# hard Gumbel-softmax with given noise: straight-through estimator
logits = leaf("gumbel.logits", 4, 6)
noise = -torch.log(-torch.log(torch.rand(4, 6).clamp(1e-6, 1 - 1e-6)))
put("gumbel.noise", noise)
tau = 0.7
put("gumbel.tau", torch.tensor([tau]))
soft = torch.softmax((logits + noise) / tau, -1)
hard = F.one_hot(soft.argmax(-1), 6).float()
backward("gumbel", hard - soft.detach() + soft, ("logits", logits))

# AdamW: three steps with given gradients
p = torch.randn(10).requires_grad_(True)
put("adamw.p0", p)
opt = torch.optim.AdamW([p], lr=1e-2, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
for step in range(3):
    grad = torch.randn(10)
    put("adamw.grad%d" % step, grad)
    p.grad = grad.clone()
    opt.step()
    put("adamw.p%d" % (step + 1), p)

# gradient-norm clipping over two tensors
g1, g2 = torch.randn(4, 3), torch.randn(5)
put("clip.g1", g1); put("clip.g2", g2)
t1, t2 = torch.zeros(4, 3, requires_grad=True), torch.zeros(5, requires_grad=True)
t1.grad, t2.grad = g1.clone(), g2.clone()
norm = torch.nn.utils.clip_grad_norm_([t1, t2], 1.5)
put("clip.norm", norm.reshape(1)); put("clip.out1", t1.grad); put("clip.out2", t2.grad)

# CTC loss of log_softmax(logits) (batch-first here; torch wants (T, B, V)): a repeated label that needs a blank between,
# a target exactly as long as its 6 valid frames allow, and an impossible one (3 labels with a repeat in 3 frames).
logits = leaf("ctc.logits", 3, 8, 6, scale=2.0)
put("ctc.targets", torch.tensor([1, 2, 2, 3, 1, 2, 3, 4, 5, 1, 4, 4, 2]))
put("ctc.target_lengths", torch.tensor([4, 6, 3]))
put("ctc.input_lengths", torch.tensor([8, 6, 3]))
targets, target_lengths, input_lengths = torch.tensor([1, 2, 2, 3, 1, 2, 3, 4, 5, 1, 4, 4, 2]), torch.tensor([4, 6, 3]), torch.tensor([8, 6, 3])
for reduction in ("sum", "mean"):
    logits.grad = None
    loss = F.ctc_loss(F.log_softmax(logits, -1).transpose(0, 1), targets, input_lengths, target_lengths, blank=0,
                      reduction=reduction, zero_infinity=True)
    loss.backward()
    put("ctc_%s.out" % reduction, loss.reshape(1))
    put("ctc_%s.grad_logits" % reduction, logits.grad)
put("ctc_none.out", F.ctc_loss(F.log_softmax(logits, -1).transpose(0, 1), targets, input_lengths, target_lengths,
                               blank=0, reduction="none", zero_infinity=False))

# safetensors writer (our own few lines: 8-byte header length, JSON header, raw little-endian float32)
header, blobs, offset = {"__metadata__": {"generator": "tools/export_engine_reference.py", "torch": torch.__version__}}, [], 0
for name in sorted(out):
    data = out[name].numpy().astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(out[name].shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
path = sys.argv[1] if len(sys.argv) > 1 else "tests/Wav2Vec2.Tests/Fixtures/engine_reference.safetensors"
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
print("wrote %d tensors to %s" % (len(out), path))
