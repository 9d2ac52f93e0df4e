using System.CommandLine;
using Wav2Vec2.Data;
using Wav2Vec2.Models;
using Wav2Vec2.Training;

namespace Wav2Vec2.Cli;

/// <summary>`w2v2 pretrain`: self-supervised pre-training on a directory or fairseq manifest of audio.</summary>
internal static class PretrainCommand
{
    public static Command Create(TextWriter output)
    {
        var data = new Option<string>("--data") { Description = "Training audio: a directory (.wav/.flac, searched recursively) or a fairseq .tsv manifest.", Required = true };
        var valid = new Option<string?>("--valid") { Description = "Validation audio (directory or manifest)." };
        var preset = new Option<string?>("--preset")
        {
            Description = "Recipe (objective, regularisation, optimisation) and, without --config/--init, architecture: base, large or tiny. " +
                          "Default: large for a layer-norm architecture, else base.",
        };
        var config = new Option<string?>("--config") { Description = "config.json of the architecture to train (its training settings are ignored: the recipe's apply)." };
        var outDir = new Option<string>("--out") { Description = "Run directory: train_log.jsonl, checkpoint-N/, final/.", Required = true };
        var maxUpdates = new Option<int?>("--max-updates") { Description = "Updates to train (tiny: the warm-up and temperature decay scale with it)." };
        var warmup = new Option<int?>("--warmup-updates") { Description = "Updates of learning-rate warm-up (fairseq: 32000 for base and large)." };
        var temperatureDecay = new Option<double?>("--temperature-decay") { Description = "Per-update Gumbel temperature decay (fairseq: 0.999995)." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Samples per batch (batch size x longest item)." };
        var updateFreq = new Option<int?>("--update-freq") { Description = "Batches accumulated per update. fairseq's recipes run on 64 (base) or 128 (large) GPUs at update_freq 1: with one machine each update sees that much less audio at the same learning rate unless this makes up for it." };
        var lr = new Option<float?>("--lr") { Description = "Peak learning rate." };
        var normalize = new Option<bool?>("--normalize") { Description = "Normalise each utterance (default: the recipe's; fairseq: false for base, true for large)." };
        var seed = new Option<ulong?>("--seed") { Description = "Random seed." };
        var saveInterval = new Option<int?>("--save-interval") { Description = "Save a checkpoint every N updates." };
        var validInterval = new Option<int?>("--valid-interval") { Description = "Validate every N updates." };
        var minSample = new Option<int?>("--min-sample-size") { Description = "Skip recordings shorter than this many samples." };
        var maxSample = new Option<int?>("--max-sample-size") { Description = "Crop recordings to at most this many samples." };
        var init = new Option<string?>("--init") { Description = "Start from the weights (and architecture) of this model directory (backbone or pre-training checkpoint)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --out." };
        var command = new Command("pretrain", "Pre-train wav2vec 2.0 on unlabeled audio (fairseq's objective and defaults). " +
            "fairseq trains BASE on 64 GPUs and LARGE on 128: the effective batch per update is printed at the start; raise --update-freq to approach it.")
        {
            data, valid, preset, config, outDir, maxUpdates, warmup, temperatureDecay, maxTokens, updateFreq, lr, normalize, seed,
            saveInterval, validInterval, minSample, maxSample, init, resume,
        };
        command.SetAction(parse =>
        {
            string? presetName = parse.GetValue(preset), configPath = parse.GetValue(config), initDirectory = parse.GetValue(init);
            if (presetName == null && configPath == null && initDirectory == null)
                throw new CliException("give --preset, --config or --init (the architecture to train)");
            if (presetName is not (null or "base" or "large" or "tiny"))
                throw new CliException($"--preset must be base, large or tiny, got '{presetName}'");
            // Architecture: --config, else --init's config.json, else the preset's; recipe: --preset, else by architecture.
            Wav2Vec2Config architecture = configPath != null ? Wav2Vec2Config.Load(configPath)
                : initDirectory != null ? PretrainedDirectory.LoadConfig(initDirectory) : Wav2Vec2Config.Preset(presetName!);
            presetName ??= architecture.DoStableLayerNorm || architecture.FeatExtractNorm == FeatureEncoderNorm.Layer ? "large" : "base";
            int? updates = TrainingRun.Positive(parse.GetValue(maxUpdates), "--max-updates");
            PreTrainingOptions defaults = presetName == "tiny" && updates is int n ? PreTrainingOptions.Tiny(n) : PreTrainingOptions.Preset(presetName);
            var options = defaults with
            {
                MaxUpdates = updates ?? defaults.MaxUpdates,
                WarmupUpdates = parse.GetValue(warmup) is int w ? (w >= 0 ? w : throw new CliException("--warmup-updates must not be negative")) : defaults.WarmupUpdates,
                TemperatureDecay = parse.GetValue(temperatureDecay) is double d ? (d is > 0 and <= 1 ? d : throw new CliException("--temperature-decay must be in (0, 1]")) : defaults.TemperatureDecay,
                UpdateFreq = TrainingRun.Positive(parse.GetValue(updateFreq), "--update-freq") ?? defaults.UpdateFreq,
                LearningRate = parse.GetValue(lr) is float rate ? (rate > 0 ? rate : throw new CliException("--lr must be positive")) : defaults.LearningRate,
                Normalize = parse.GetValue(normalize) ?? defaults.Normalize,
                Seed = parse.GetValue(seed) ?? defaults.Seed,
                SaveInterval = parse.GetValue(saveInterval) ?? defaults.SaveInterval,
                ValidateInterval = TrainingRun.Positive(parse.GetValue(validInterval), "--valid-interval") ?? defaults.ValidateInterval,
                Batching = defaults.Batching with
                {
                    MaxTokens = TrainingRun.Positive(parse.GetValue(maxTokens), "--max-tokens") ?? defaults.Batching.MaxTokens,
                    MinSampleSize = parse.GetValue(minSample) ?? defaults.Batching.MinSampleSize,
                    MaxSampleSize = TrainingRun.Positive(parse.GetValue(maxSample), "--max-sample-size") ?? defaults.Batching.MaxSampleSize,
                },
            };
            string run = parse.GetValue(outDir)!;
            bool resuming = parse.GetValue(resume);
            if (!resuming && PreTrainer.LatestCheckpoint(run) != null)
                throw new CliException($"{run} already holds checkpoints: pass --resume to continue or choose another --out");
            AudioDataset train = AudioDataset.Open(parse.GetValue(data)!);
            AudioDataset? validation = parse.GetValue(valid) is string v ? AudioDataset.Open(v) : null;

            Wav2Vec2ForPreTraining model = PreTrainer.CreateModel(architecture, options, initDirectory, out _);
            if (initDirectory != null)
            {
                var stored = Audio.InputValuesPreprocessor.Load(Path.Combine(initDirectory, "preprocessor_config.json"));
                if (stored.DoNormalize != options.Normalize)
                    output.WriteLine($"warning: {initDirectory}/preprocessor_config.json says do_normalize={stored.DoNormalize.ToString().ToLowerInvariant()}, " +
                                     $"the {presetName} recipe trains on {(options.Normalize ? "normalised input" : "raw waveforms")} (--normalize chooses)");
                output.WriteLine($"initialised from {initDirectory}");
            }
            var trainer = new PreTrainer(model, options, run) { Log = output.WriteLine };
            if (resuming && !trainer.TryResume())
                output.WriteLine($"no checkpoint in {run} yet: starting from update 0");
            output.WriteLine($"{train.Entries.Count} recordings ({train.Skipped.Count} skipped), {model.ParameterCount():N0} parameters, recipe {presetName}");
            foreach (string line in options.Describe())
                output.WriteLine(line);
            return TrainingRun.Run(trainer, "pre-training", output, token => trainer.Train(train, validation, token));
        });
        return command;
    }
}
