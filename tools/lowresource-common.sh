# Sourced by run-lowresource-experiment.sh and lowresource-recipe-search.sh (needs $repo and $out): the command line
# built into OUT/cli, the step runner, the CTC fine-tuning leg both judge recipes by, and a leg's best validation.
dotnet build "$repo/src/Wav2Vec2.Cli" -c Release -o "$out/cli" --nologo -v quiet >/dev/null
w2v2() { dotnet "$out/cli/w2v2.dll" "$@"; }

# Runs a step with its output in LOG; on failure prints the log's last lines and stops.
step() {
    local log=$1; shift
    "$@" >"$log" 2>&1 || { echo "error: $(basename "$log" .log) failed:" >&2; tail -n 3 "$log" >&2; exit 1; }
}

# finetune_leg LOG RUN INIT TRAIN VALID UPDATES VALIDATIONS BEST_METRIC: the tiny CTC recipe, validated VALIDATIONS
# times (at least 25 updates apart), best/ by BEST_METRIC (wer or cer).
finetune_leg() {
    local log=$1 run=$2 init=$3 train=$4 valid=$5 updates=$6 validations=$7 metric=$8
    step "$log" w2v2 finetune --init "$init" --train "$train" --valid "$valid" --out "$run" --preset tiny \
        --max-updates "$updates" --best-metric "$metric" --valid-interval $(( updates / validations > 25 ? updates / validations : 25 ))
}

# best_validation RUN: a fine-tuning run's lowest dev CER and lowest dev WER in percent, and the update of that CER.
best_validation() {
    /usr/bin/python3 -c 'import json, sys
valid = [json.loads(l) for l in open(sys.argv[1]) if "\"valid\"" in l]
best = min(valid, key=lambda e: e["cer"])
print("%.2f %.2f %d" % (100 * best["cer"], 100 * min(e["wer"] for e in valid), best["update"]))' "$1/train_log.jsonl"
}
