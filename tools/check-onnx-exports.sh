#!/usr/bin/env bash
# Exports every test fixture model with w2v2 export-onnx (CTC head, and the backbone with every hidden state) and runs
# Debian's onnx checker (python3-onnx 1.12: opset 17, IR 8) on each file, with shape inference (full_check).
# Usage: bash tools/check-onnx-exports.sh [OUT_DIR]      (apt-get install -y python3-onnx)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
mkdir -p "$out"
dotnet build src/Wav2Vec2.Cli -c Release -v quiet -nologo >/dev/null
w2v2="dotnet src/Wav2Vec2.Cli/bin/Release/net10.0/w2v2.dll"
for model in post_ln_group stable_layer hubert_post_ln hubert_stable data2vec_audio wavlm wavlm_stable mms; do
    dir=tests/Wav2Vec2.Tests/Fixtures/models/$model
    if [ "$model" != mms ]; then $w2v2 export-onnx --model "$dir" --out "$out/$model.ctc.onnx" >/dev/null; fi
    $w2v2 export-onnx --model "$dir" --all-layers --out "$out/$model.backbone.onnx" >/dev/null
done
/usr/bin/python3 - "$out" <<'PY'
import glob, sys
import onnx
files = sorted(glob.glob(sys.argv[1] + "/*.onnx"))
for path in files:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    print("ok  %-40s ir %d opset %d, %d nodes" % (path.split("/")[-1], model.ir_version, model.opset_import[0].version, len(model.graph.node)))
print("onnx %s checker: %d files passed" % (onnx.__version__, len(files)))
PY
