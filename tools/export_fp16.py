#!/usr/bin/python3
"""Copies a model directory written by w2v2 with its weights converted to 16-bit floats (safetensors F16), halving
the size: how examples/models/tiny-en was made from the experiment's fine-tuned model. Our loader reads F16 back to
float32. Usage: /usr/bin/python3 tools/export_fp16.py IN_DIR OUT_DIR"""
import json, os, shutil, struct, sys
import numpy as np

source, target = sys.argv[1:3]
os.makedirs(target, exist_ok=True)
for name in os.listdir(source):
    if name.endswith(".json"):
        shutil.copy(os.path.join(source, name), os.path.join(target, name))
with open(os.path.join(source, "model.safetensors"), "rb") as f:
    data = f.read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
out_header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
for name in sorted(k for k in header if k != "__metadata__"):
    info = header[name]
    assert info["dtype"] == "F32", (name, info["dtype"])
    a, b = info["data_offsets"]
    half = np.frombuffer(data[8 + n + a:8 + n + b], dtype="<f4").astype("<f2").tobytes()
    out_header[name] = {"dtype": "F16", "shape": info["shape"], "data_offsets": [offset, offset + len(half)]}
    blobs.append(half)
    offset += len(half)
text = json.dumps(out_header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open(os.path.join(target, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
print("%s: %d tensors, %.1f MB" % (target, len(out_header) - 1, os.path.getsize(os.path.join(target, "model.safetensors")) / 1e6))
