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
        var data = new Option<string>("--data") { Description = "Training audio: a directory (searched recursively for .wav .flac .mp3 .ogg .opus .aiff), a fairseq .tsv manifest, a Common Voice .tsv or an audio folder's metadata.csv." };
        var valid = new Option<string?>("--valid") { Description = "Validation audio (same forms as --data)." };
        var preset = new Option<string?>("--preset")
        {
            Description = "Recipe (objective, regularisation, optimisation) and, without --config/--init, architecture: base, large or tiny. " +
                          "Default: large for a layer-norm architecture, else base.",
        };
        var config = new Option<string?>("--config") { Description = "config.json of the architecture to train (its training settings are ignored: the recipe's apply)." };
        var outDir = new Option<string>("--out") { Description = "Run directory: train_log.jsonl, checkpoint-N/, final/." };
        var printRecipe = new Option<bool>("--print-recipe") { Description = "Print the resolved recipe as JSON (fairseq's names; what tools/pretrain_twin.py reads) and stop: no --data or --out needed." };
        var maxUpdates = new Option<int?>("--max-updates") { Description = "Updates to train (tiny: the warm-up and temperature decay scale with it)." };
        var warmup = new Option<int?>("--warmup-updates") { Description = "Updates of learning-rate warm-up (fairseq: 32000 for base and large)." };
        var temperatureDecay = new Option<double?>("--temperature-decay") { Description = "Per-update Gumbel temperature decay (fairseq: 0.999995)." };
        var diversity = new Option<float?>("--diversity-weight") { Description = "Weight of the codebook diversity loss (fairseq: 0.1); higher keeps more codes in use." };
        var finalDiversity = new Option<float?>("--final-diversity-weight")
        {
            Description = "Let the diversity weight rise linearly to this value between 10 % and 20 % of the run, then stay (a 10-20 % window can fall before the contrastive accuracy leaves chance: see docs/lowresource-experiment.md).",
        };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Samples per batch (batch size x longest item)." };
        var updateFreq = new Option<int?>("--update-freq") { Description = "Batches accumulated per update. fairseq's recipes run on 64 (base) or 128 (large) GPUs at update_freq 1: with one machine each update sees that much less audio at the same learning rate unless this makes up for it." };
        var lr = new Option<float?>("--lr") { Description = "Peak learning rate." };
        var normalize = new Option<bool?>("--normalize") { Description = "Normalise each utterance (default: the recipe's; fairseq: false for base, true for large)." };
        var seed = new Option<ulong?>("--seed") { Description = "Random seed." };
        var saveInterval = new Option<int?>("--save-interval") { Description = "Save a checkpoint every N updates." };
        var validInterval = new Option<int?>("--valid-interval") { Description = "Validate every N updates." };
        var minSample = new Option<int?>("--min-sample-size") { Description = "Skip recordings shorter than this many samples." };
        var maxSample = new Option<int?>("--max-sample-size") { Description = "Crop recordings to at most this many samples." };
        var init = new Option<string?>("--init") { Description = "Start from the weights (and architecture) of this model directory or Hugging Face repo id (backbone or pre-training checkpoint)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --out." };
        var command = new Command("pretrain", "Pre-train wav2vec 2.0 on unlabeled audio (fairseq's objective and defaults). " +
            "fairseq trains BASE on 64 GPUs and LARGE on 128: the effective batch per update is printed at the start; raise --update-freq to approach it.")
        {
            data, valid, preset, config, outDir, maxUpdates, warmup, temperatureDecay, diversity, finalDiversity, maxTokens, updateFreq, lr, normalize, seed,
            saveInterval, validInterval, minSample, maxSample, init, resume, printRecipe,
        };
        command.SetAction(parse =>
        {
            string? presetName = parse.GetValue(preset), configPath = parse.GetValue(config), initDirectory = parse.GetValue(init) is string i ? ModelSource.Resolve(i) : null;
            if (presetName == null && configPath == null && initDirectory == null)
                throw new CliException("give --preset, --config or --init (the architecture to train)");
            if (presetName != null && !PreTrainingOptions.Presets.ContainsKey(presetName))
                throw new CliException($"--preset must be one of {string.Join(", ", PreTrainingOptions.Presets.Keys)}, got '{presetName}'");
            // Architecture: --config, else --init's config.json, else the preset's; recipe: --preset, else by architecture.
            Wav2Vec2Config architecture = PreTrainer.Architecture(configPath != null ? Wav2Vec2Config.Load(configPath) : null, initDirectory, presetName);
            presetName ??= PreTrainingOptions.PresetFor(architecture);
            var overrides = new TrainingOverrides
            {
                MaxUpdates = TrainingRun.Positive(parse.GetValue(maxUpdates), "--max-updates"),
                WarmupUpdates = parse.GetValue(warmup) is int w ? (w >= 0 ? w : throw new CliException("--warmup-updates must not be negative")) : null,
                UpdateFreq = TrainingRun.Positive(parse.GetValue(updateFreq), "--update-freq"),
                LearningRate = parse.GetValue(lr) is float rate ? (rate > 0 ? rate : throw new CliException("--lr must be positive")) : null,
                Seed = parse.GetValue(seed),
                SaveInterval = parse.GetValue(saveInterval),
                ValidateInterval = TrainingRun.Positive(parse.GetValue(validInterval), "--valid-interval"),
                MaxTokens = TrainingRun.Positive(parse.GetValue(maxTokens), "--max-tokens"),
                MinSampleSize = parse.GetValue(minSample),
                MaxSampleSize = TrainingRun.Positive(parse.GetValue(maxSample), "--max-sample-size"),
            };
            PreTrainingOptions recipe = overrides.ApplyTo(PreTrainingOptions.Presets[presetName]);
            if (parse.GetValue(temperatureDecay) is double d)
                recipe = recipe with { TemperatureDecay = d is > 0 and <= 1 ? d : throw new CliException("--temperature-decay must be in (0, 1]"), TemperatureFloorFraction = 0 };
            if (parse.GetValue(diversity) is float weight)
                recipe = recipe with { DiversityLossWeight = weight is >= 0 and <= 1000 ? weight : throw new CliException($"--diversity-weight must be within 0-1000, got {weight}") };
            if (parse.GetValue(finalDiversity) is float final)
                recipe = recipe with { FinalDiversityLossWeight = final is >= 0 and <= 1000 ? final : throw new CliException($"--final-diversity-weight must be within 0-1000, got {final}") };
            recipe = recipe with { Normalize = parse.GetValue(normalize) ?? recipe.Normalize };
            if (parse.GetValue(printRecipe))
            {
                output.WriteLine(recipe.ToRecipeJson());
                return 0;
            }
            if (parse.GetValue(data) == null || parse.GetValue(outDir) == null)
                throw new CliException("pretrain needs --data and --out");
            AudioDataset train = DatasetSource.Unlabeled(parse.GetValue(data)!);
            AudioDataset? validation = parse.GetValue(valid) is string v ? DatasetSource.Unlabeled(v) : null;
            output.WriteLine($"recipe {presetName}");
            var trainer = TrainingRun.Prepare(() => PreTrainer.Prepare(architecture, recipe, parse.GetValue(outDir)!, parse.GetValue(resume),
                initDirectory, output.WriteLine));
            return TrainingRun.Run(trainer, "pre-training", output, token => trainer.Train(train, validation, token));
        });
        return command;
    }
}
