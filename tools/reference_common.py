"""Helpers shared by the fixture scripts: our own safetensors writer and the torchaudio -> Hugging Face name map."""
import json, struct
import torch


def write_safetensors(path, tensors, metadata=None):
    """8-byte little-endian header length, JSON header (padded to 8 bytes), raw little-endian float32 data."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        data = tensors[name].detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def hf_name(name):
    """A torchaudio wav2vec2_model parameter name as Hugging Face Wav2Vec2ForCTC spells it."""
    for old, new in (("encoder.feature_projection.", "feature_projection."), ("encoder.transformer.pos_conv_embed.", "encoder.pos_conv_embed."),
                     ("encoder.transformer.layer_norm.", "encoder.layer_norm."), ("encoder.transformer.layers.", "encoder.layers.")):
        if name.startswith(old):
            name = new + name[len(old):]
    return "lm_head." + name[4:] if name.startswith("aux.") else "wav2vec2." + name
