#!/usr/bin/python3
"""Exports a model directory written by w2v2 (config.json + model.safetensors) to ONNX through torchaudio's
wav2vec2_model, so that ONNX Runtime and our engine compute the same function with the same weights. The benchmark
app calls it on demand (`forward --reference-ort`) and caches the result; the .onnx file is never committed.

    /usr/bin/python3 tools/export_onnx.py MODEL_DIR OUT.onnx

Input `input_values` (batch, samples), output `last_hidden_state` (batch, frames, hidden_size): the encoder output,
as Wav2Vec2Model.Forward's LastHiddenState. Needs Debian's python3-torch, python3-torchaudio and python3-onnx."""
import os, sys
import torch
from reference_common import load_torchaudio_model


class LastHiddenState(torch.nn.Module):
    """torchaudio's forward returns (features, lengths); ONNX gets the features only."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_values):
        return self.model(input_values)[0]


directory, out = sys.argv[1:3]
model, config, _ = load_torchaudio_model(directory)
model.aux = None
example = torch.randn(1, 16000)
temporary = out + ".tmp"
with torch.no_grad():
    torch.onnx.export(LastHiddenState(model), (example,), temporary, input_names=["input_values"],
                      output_names=["last_hidden_state"], opset_version=17,
                      dynamic_axes={"input_values": {0: "batch", 1: "samples"}, "last_hidden_state": {0: "batch", 1: "frames"}})
os.replace(temporary, out)
print("exported %s (%d layers, hidden %d) to %s" % (directory, config["num_hidden_layers"], config["hidden_size"], out))
