using System.CommandLine;
using Wav2Vec2.Data;
using Wav2Vec2.Models;
using Wav2Vec2.Training;

namespace Wav2Vec2.Cli;

/// <summary>`w2v2 finetune`: CTC fine-tuning of a pre-trained model on transcribed audio (fairseq's recipe).</summary>
internal static class FinetuneCommand
{
    public static Command Create(TextWriter output)
    {
        var init = new Option<string>("--init") { Description = "Pre-trained model directory or Hugging Face repo id (backbone, pre-training or CTC checkpoint).", Required = true };
        var train = new Option<string>("--train") { Description = "Labeled training audio: Common Voice .tsv (clips/ beside it), audio folder (metadata.csv), LibriSpeech-style directory (*.trans.txt), fairseq manifest with .wrd/.ltr, or path<TAB>transcript .tsv.", Required = true };
        var valid = new Option<string?>("--valid") { Description = "Labeled validation audio (same forms); the best model by WER goes to OUT/best." };
        var outDir = new Option<string>("--out") { Description = "Run directory: train_log.jsonl, checkpoint-N/, best/, final/.", Required = true };
        var preset = new Option<string>("--preset")
        {
            Description = "fairseq BASE recipe by amount of labels (10m, 1h, 10h, 100h) or tiny (CPU-sized).",
            DefaultValueFactory = _ => "10m",
        };
        preset.AcceptOnlyFromAmong([.. CtcFineTuningOptions.Presets.Keys]);
        var maxUpdates = new Option<int?>("--max-updates") { Description = "Updates to train (the schedule stretches to fit)." };
        var updateFreq = new Option<int?>("--update-freq") { Description = "Batches accumulated per update (fairseq's recipes: 8 = 2 GPUs x 4)." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Samples per batch (batch size x longest utterance)." };
        var lr = new Option<float?>("--lr") { Description = "Peak learning rate." };
        var freeze = new Option<int?>("--freeze-updates") { Description = "Updates during which only the CTC head trains." };
        var seed = new Option<ulong?>("--seed") { Description = "Random seed." };
        var validInterval = new Option<int?>("--valid-interval") { Description = "Validate every N updates." };
        var bestMetric = new Option<string>("--best-metric")
        {
            Description = "Validation figure that picks OUT/best: wer (fairseq's) or cer (for models whose WER is still near 100 %).",
            DefaultValueFactory = _ => "wer",
        };
        bestMetric.AcceptOnlyFromAmong("wer", "cer");
        var saveInterval = new Option<int?>("--save-interval") { Description = "Save a checkpoint every N updates." };
        var keepLast = new Option<int?>("--keep-last") { Description = "Checkpoints to keep (newest)." };
        var vocab = new Option<string?>("--vocab") { Description = "Directory with the vocab.json to use (default: the init model's, else built from --train)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --out." };
        var adapterLanguage = new Option<string?>("--adapter-lang")
        {
            Description = "MMS recipe for a new language: train only the adapters and the CTC head of a model with adapters; " +
                          "saved models get adapter.<lang>.safetensors.",
        };
        var command = new Command("finetune", "Fine-tune a pre-trained wav2vec 2.0 model with the CTC loss (fairseq's wav2vec2_asr recipe); " +
            "fairseq runs these recipes on 2 GPUs with update_freq 4: use --update-freq 8 for the same effective batch.")
        {
            init, train, valid, outDir, preset, maxUpdates, updateFreq, maxTokens, lr, freeze, seed, validInterval, bestMetric,
            saveInterval, keepLast, vocab, resume, adapterLanguage,
        };
        command.SetAction(parse =>
        {
            var overrides = new TrainingOverrides
            {
                MaxUpdates = TrainingRun.Positive(parse.GetValue(maxUpdates), "--max-updates"),
                UpdateFreq = TrainingRun.Positive(parse.GetValue(updateFreq), "--update-freq"),
                LearningRate = parse.GetValue(lr) is float rate ? (rate > 0 ? rate : throw new CliException("--lr must be positive")) : null,
                Seed = parse.GetValue(seed),
                ValidateInterval = TrainingRun.Positive(parse.GetValue(validInterval), "--valid-interval"),
                SaveInterval = TrainingRun.Positive(parse.GetValue(saveInterval), "--save-interval"),
                KeepLastCheckpoints = TrainingRun.Positive(parse.GetValue(keepLast), "--keep-last"),
                MaxTokens = TrainingRun.Positive(parse.GetValue(maxTokens), "--max-tokens"),
            };
            CtcFineTuningOptions recipe = overrides.ApplyTo(CtcFineTuningOptions.Presets[parse.GetValue(preset)!]);
            recipe = recipe with
            {
                FreezeFineTuneUpdates = parse.GetValue(freeze) is int f ? (f >= 0 ? f : throw new CliException("--freeze-updates must not be negative")) : recipe.FreezeFineTuneUpdates,
                BestModelMetric = parse.GetValue(bestMetric) == "cer" ? BestModelMetric.CharacterErrorRate : BestModelMetric.WordErrorRate,
                AdapterLanguage = parse.GetValue(adapterLanguage),
            };
            string run = parse.GetValue(outDir)!;
            AudioDataset trainData = DatasetSource.Transcribed(parse.GetValue(train)!);
            AudioDataset? validData = parse.GetValue(valid) is string v ? DatasetSource.Transcribed(v) : null;
            CtcTokenizer? vocabulary = parse.GetValue(vocab) is string directory ? CtcTokenizer.Load(directory) : null;
            if (vocabulary != null)
                output.WriteLine($"vocabulary: {Path.Combine(parse.GetValue(vocab)!, "vocab.json")}");
            var tuner = TrainingRun.Prepare(() => CtcFineTuner.Prepare(ModelSource.Resolve(parse.GetValue(init)!), trainData, recipe, run, parse.GetValue(resume),
                vocabulary, output.WriteLine));
            return TrainingRun.Run(tuner, "fine-tuning", output, token => tuner.Train(trainData, validData, token));
        });
        return command;
    }
}
