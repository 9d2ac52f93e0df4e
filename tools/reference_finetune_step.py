#!/usr/bin/python3
"""Reference for `finetunestep`: one CTC fine-tuning step of torchaudio's wav2vec2_base(aux_num_out=32) in Debian's
PyTorch 1.13 (2 threads): conv feature encoder frozen (fairseq's feature_grad_mult 0), Transformer and head trained,
no layer drop, log_softmax + ctc_loss (sum over utterances / batch size, zero_infinity), Adam (0.9, 0.98, eps 1e-8).
Usage: /usr/bin/python3 tools/reference_finetune_step.py BATCH SECONDS [RUNS]
Prints "median_s peak_rss_mb" (peak resident set of this process, like /usr/bin/time)."""
import os, resource, sys, time
import torch, torchaudio
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blas_check import warn_if_reference_blas

warn_if_reference_blas()
torch.set_num_threads(2)
torch.manual_seed(0)
batch, seconds = int(sys.argv[1]), float(sys.argv[2])
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
model = torchaudio.models.wav2vec2_base(aux_num_out=32, encoder_layer_drop=0.0).train()
model.feature_extractor.requires_grad_(False)
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], 5e-5, betas=(0.9, 0.98), eps=1e-8)
x = torch.randn(batch, int(16000 * seconds))
label_length = int(15 * seconds)   # about 15 characters per second of speech
targets = torch.randint(1, 32, (batch, label_length))

def step():
    logits, _ = model(x)
    log_probs = F.log_softmax(logits.float(), -1).transpose(0, 1)
    input_lengths = torch.full((batch,), log_probs.shape[0], dtype=torch.long)
    loss = F.ctc_loss(log_probs, targets, input_lengths, torch.full((batch,), label_length, dtype=torch.long),
                      blank=0, reduction="sum", zero_infinity=True) / batch
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

step()
times = []
for _ in range(runs):
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)
print("%.3f %d" % (sorted(times)[len(times) // 2], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024))
