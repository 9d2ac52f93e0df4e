using System.CommandLine;
using Spectre.Console;
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
                MaxTokens = Positive(parse.GetValue(maxTokens), "--max-tokens") ?? defaults.Batching.MaxTokens,
                MinSampleSize = parse.GetValue(minSample) ?? defaults.Batching.MinSampleSize,
                MaxSampleSize = Positive(parse.GetValue(maxSample), "--max-sample-size") ?? defaults.Batching.MaxSampleSize,
            };
            var options = defaults with
            {
                MaxUpdates = Positive(parse.GetValue(maxUpdates), "--max-updates") ?? defaults.MaxUpdates,
                UpdateFreq = Positive(parse.GetValue(updateFreq), "--update-freq") ?? defaults.UpdateFreq,
                LearningRate = parse.GetValue(lr) is float rate ? (rate > 0 ? rate : throw new CliException("--lr must be positive")) : defaults.LearningRate,
                Seed = parse.GetValue(seed) ?? defaults.Seed,
                SaveInterval = parse.GetValue(saveInterval) ?? defaults.SaveInterval,
                ValidateInterval = Positive(parse.GetValue(validInterval), "--valid-interval") ?? defaults.ValidateInterval,
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
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;   // finish the current step, save, exit
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                if (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected)
                    TrainWithProgressBar(trainer, "pre-training", () => trainer.Train(train, validation, cancel.Token));
                else
                    trainer.Train(train, validation, cancel.Token);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            return cancel.IsCancellationRequested ? 130 : 0;
        });
        return command;
    }

    // On a terminal: a Spectre.Console progress bar whose caption is the latest metrics line, and a status line for
    // checkpoints and warnings (all of them are also in train_log.jsonl / repeated after the bar).
    internal static void TrainWithProgressBar(ITrainer trainer, string caption, Action train)
    {
        var messages = new List<string>();
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn())
            .Start(context =>
            {
                var progress = context.AddTask(caption, maxValue: trainer.MaxUpdates);
                var status = context.AddTask("starting", maxValue: 1);
                progress.Value = trainer.State.Update;
                trainer.UpdateCompleted = update => progress.Value = update;
                trainer.Log = line =>
                {
                    if (line.StartsWith("update ", StringComparison.Ordinal))
                        progress.Description = Markup.Escape(line);
                    else
                    {
                        status.Description = Markup.Escape(line);
                        status.Value = 1;
                        messages.Add(line);
                    }
                };
                train();
            });
        foreach (string message in messages)
            Console.WriteLine(message);
    }

    private static int? Positive(int? value, string flag) => value is int v && v <= 0
        ? throw new CliException($"{flag} must be positive, got {v}") : value;
}
