using System.CommandLine;
using Wav2Vec2.Audio;
using Wav2Vec2.Data;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;

namespace Wav2Vec2.Cli;

/// <summary>`w2v2 pretrain`: self-supervised pre-training on a directory or fairseq manifest of audio.</summary>
internal static class PretrainCommand
{
    public static Command Create(TextWriter output)
    {
        var data = new Option<string>("--data") { Description = "Training audio: a directory (.wav/.flac, searched recursively) or a fairseq .tsv manifest.", Required = true };
        var valid = new Option<string?>("--valid") { Description = "Validation audio (directory or manifest)." };
        var preset = new Option<string?>("--preset") { Description = "Model and optimisation preset: base, large or tiny." };
        var config = new Option<string?>("--config") { Description = "config.json of the model to train (optimisation from the base preset)." };
        var outDir = new Option<string>("--out") { Description = "Run directory: train_log.jsonl, checkpoint-N/, final/.", Required = true };
        var maxUpdates = new Option<int?>("--max-updates") { Description = "Updates to train." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Samples per batch (batch size x longest item)." };
        var updateFreq = new Option<int?>("--update-freq") { Description = "Batches accumulated per update." };
        var lr = new Option<float?>("--lr") { Description = "Peak learning rate." };
        var seed = new Option<ulong?>("--seed") { Description = "Random seed." };
        var saveInterval = new Option<int?>("--save-interval") { Description = "Save a checkpoint every N updates." };
        var validInterval = new Option<int?>("--valid-interval") { Description = "Validate every N updates." };
        var minSample = new Option<int?>("--min-sample-size") { Description = "Skip recordings shorter than this many samples." };
        var maxSample = new Option<int?>("--max-sample-size") { Description = "Crop recordings to at most this many samples." };
        var init = new Option<string?>("--init") { Description = "Start from the weights of this model directory (backbone or pre-training checkpoint)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --out." };
        var command = new Command("pretrain", "Pre-train wav2vec 2.0 on unlabeled audio (fairseq's objective and defaults).")
        {
            data, valid, preset, config, outDir, maxUpdates, maxTokens, updateFreq, lr, seed, saveInterval, validInterval,
            minSample, maxSample, init, resume,
        };
        command.SetAction(parse =>
        {
            string? presetName = parse.GetValue(preset), configPath = parse.GetValue(config);
            if ((presetName == null) == (configPath == null))
                throw new CliException("give exactly one of --preset and --config");
            if (presetName is not (null or "base" or "large" or "tiny"))
                throw new CliException($"--preset must be base, large or tiny, got '{presetName}'");
            Wav2Vec2Config modelConfig = configPath != null ? Wav2Vec2Config.Load(configPath) : Wav2Vec2Config.Preset(presetName!);
            PreTrainingOptions defaults = PreTrainingOptions.Preset(presetName ?? "base");
            var batching = defaults.Batching with
            {
                MaxTokens = TrainingRun.Positive(parse.GetValue(maxTokens), "--max-tokens") ?? defaults.Batching.MaxTokens,
                MinSampleSize = parse.GetValue(minSample) ?? defaults.Batching.MinSampleSize,
                MaxSampleSize = TrainingRun.Positive(parse.GetValue(maxSample), "--max-sample-size") ?? defaults.Batching.MaxSampleSize,
            };
            var options = defaults with
            {
                MaxUpdates = TrainingRun.Positive(parse.GetValue(maxUpdates), "--max-updates") ?? defaults.MaxUpdates,
                UpdateFreq = TrainingRun.Positive(parse.GetValue(updateFreq), "--update-freq") ?? defaults.UpdateFreq,
                LearningRate = parse.GetValue(lr) is float rate ? (rate > 0 ? rate : throw new CliException("--lr must be positive")) : defaults.LearningRate,
                Seed = parse.GetValue(seed) ?? defaults.Seed,
                SaveInterval = parse.GetValue(saveInterval) ?? defaults.SaveInterval,
                ValidateInterval = TrainingRun.Positive(parse.GetValue(validInterval), "--valid-interval") ?? defaults.ValidateInterval,
                Batching = batching,
            };
            string run = parse.GetValue(outDir)!;
            bool resuming = parse.GetValue(resume);
            if (!resuming && PreTrainer.LatestCheckpoint(run) != null)
                throw new CliException($"{run} already holds checkpoints: pass --resume to continue or choose another --out");
            AudioDataset train = AudioDataset.Open(parse.GetValue(data)!);
            AudioDataset? validation = parse.GetValue(valid) is string v ? AudioDataset.Open(v) : null;

            var model = new Wav2Vec2ForPreTraining(modelConfig, new RandomSource(options.Seed));
            // fairseq pre-trains BASE on raw waveforms (normalize: false) and LARGE-LV60 on normalised ones; a model
            // given with --init keeps the input preparation recorded in its directory.
            model.Backbone.Preprocessor = new InputValuesPreprocessor { DoNormalize = presetName != "base" };
            if (parse.GetValue(init) is string initDirectory)
            {
                PretrainedDirectory.LoadWeights(model, initDirectory, strict: false);
                string preprocessor = Path.Combine(initDirectory, "preprocessor_config.json");
                if (File.Exists(preprocessor))
                    model.Backbone.Preprocessor = InputValuesPreprocessor.Load(preprocessor);
                output.WriteLine($"initialised from {initDirectory}");
            }
            var trainer = new PreTrainer(model, options, run) { Log = output.WriteLine };
            if (resuming && !trainer.TryResume())
                output.WriteLine($"no checkpoint in {run} yet: starting from update 0");
            output.WriteLine($"{train.Entries.Count} recordings ({train.Skipped.Count} skipped), {model.ParameterCount():N0} parameters, " +
                             $"{options.MaxUpdates} updates");
            return TrainingRun.Run(trainer, "pre-training", output, token => trainer.Train(train, validation, token));
        });
        return command;
    }

}
