// Voice/accent classification with wav2vec 2.0 features in an ML.NET pipeline.
// Data: bash tools/make-voice-dataset.sh voices        (espeak-ng voices; labels.tsv + clips/)
// Run:  dotnet run -c Release -- voices [MODEL_DIR] [--sweep] [--pretrain UNLABELED_DIR UPDATES] [--finetune UPDATES]
// MODEL_DIR is a Hugging Face directory or repo id of any family (facebook/wav2vec2-base, microsoft/wavlm-base-plus,
// facebook/hubert-base-ls960, facebook/data2vec-audio-base); without one, a randomly initialised BASE-sized model of
// --family (default wav2vec2) is made, so the program runs with no download (real weights classify better).
// --pretrain first pre-trains MODEL_DIR on the clips of UNLABELED_DIR (labels unread; make-voice-dataset.sh with
// another seed gives other sentences from the same voices); --finetune also fine-tunes the model into the classifier.
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers.LightGbm;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

string dataDir = args.Length > 0 ? args[0] : "voices";
int family = Array.IndexOf(args, "--family");
string modelDir = args.Length > 1 && !args[1].StartsWith("--") ? args[1] : RandomBaseModel(family >= 0 ? args[family + 1] : "wav2vec2");

var mlContext = new MLContext(seed: 0);
mlContext.Log += (_, e) => { if (e.Source.StartsWith("Wav2Vec2") && e.Kind != ChannelMessageKind.Trace) Console.WriteLine(e.RawMessage); };

IDataView data = mlContext.Data.LoadFromTextFile<Clip>(Path.Combine(dataDir, "labels.tsv"), hasHeader: true);
var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.25, seed: 0);

int pretrain = Array.IndexOf(args, "--pretrain");
if (pretrain >= 0)
{
    // Self-supervised pre-training on unlabeled audio of the same voices; the pre-trained model replaces MODEL_DIR.
    IDataView unlabeled = mlContext.Data.LoadFromTextFile<Clip>(Path.Combine(args[pretrain + 1], "labels.tsv"), hasHeader: true);
    Wav2Vec2FeaturesTransformer preTrained = mlContext.Transforms.Wav2Vec2PreTrain(new Wav2Vec2PreTrainingOptions
    {
        ModelDirectory = modelDir, Preset = "tiny", MaxUpdates = int.Parse(args[pretrain + 2]), AudioColumnName = "Path",
        AudioFolder = Path.Combine(args[pretrain + 1], "clips"), Seed = 1,
    }).Fit(unlabeled);
    modelDir = Path.Combine(Path.GetTempPath(), "wav2vec2-voices-pretrained");
    preTrained.Model.SavePretrained(modelDir);
}

// Keep the chain typed (var, not IEstimator<ITransformer>) so that AppendCacheCheckpoint stays in it: the features are
// computed once, then the trainer reads the cache on every pass.
var pipeline = mlContext.Transforms.LoadAudio("Audio", Path.Combine(dataDir, "clips"), "Path")
    .Append(mlContext.Transforms.Wav2Vec2Features("Features", "Audio", modelDir, layer: 1, pooling: Wav2Vec2Pooling.MeanAndStd))
    .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
    .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
    .AppendCacheCheckpoint(mlContext)
    .Append(mlContext.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options { Seed = 1, NumberOfThreads = 1 }))
    .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

ITransformer model = pipeline.Fit(split.TrainSet);
var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
Console.WriteLine($"test set: macro accuracy {metrics.MacroAccuracy:P1}, micro accuracy {metrics.MicroAccuracy:P1}, log-loss {metrics.LogLoss:F3}");

// mlContext.Model.Save cannot store a transformer from another assembly; SaveWav2Vec2 writes one zip, weights included.
mlContext.Model.SaveWav2Vec2(model, data.Schema, "voice-classifier.zip");
ITransformer loaded = mlContext.Model.LoadWav2Vec2("voice-classifier.zip", out DataViewSchema inputSchema);
var engine = mlContext.Model.CreatePredictionEngine<Clip, Prediction>(loaded, inputSchema: inputSchema);
foreach (Clip clip in mlContext.Data.CreateEnumerable<Clip>(split.TestSet, reuseRowObject: false).Take(5))
    Console.WriteLine($"{clip.Path}: predicted {engine.Predict(clip).PredictedLabel}, actual {clip.Label}");

if (args.Contains("--sweep"))
{
    // Which layer, pooling and trainer classify best? One forward pass per clip, then CrossValidate per configuration.
    var experiment = new Wav2Vec2Experiment(mlContext, new Wav2Vec2ExperimentOptions
    {
        ModelDirectory = modelDir, AudioColumnName = "Path", AudioFolder = Path.Combine(dataDir, "clips"),
        Layers = [0, 1, 2, 4, 6, 9, 12], Poolings = [Wav2Vec2Pooling.Mean, Wav2Vec2Pooling.MeanAndStd],
        Trainers = [Wav2Vec2ExperimentTrainer.SdcaMaximumEntropy, Wav2Vec2ExperimentTrainer.LbfgsMaximumEntropy],
        NumberOfFolds = 5, TimeBudget = TimeSpan.FromMinutes(20),
    });
    Wav2Vec2ExperimentResult result = experiment.Execute(data);
    Console.WriteLine(result);   // the leaderboard: mean and std of macro accuracy over the folds
    result.SaveLeaderboard("leaderboard.json");   // w2v2 plot leaderboard.json --out leaderboard.png: score by layer and pooling
    mlContext.Model.SaveWav2Vec2(result.Model, data.Schema, "voice-classifier-best.zip");
}

int finetune = Array.IndexOf(args, "--finetune");
if (finetune >= 0)
{
    // Fine-tune wav2vec 2.0 itself into the classifier (Hugging Face's Wav2Vec2ForSequenceClassification: projector,
    // mean over frames, classifier), a trainer on MulticlassClassification.Trainers like any other.
    var fineTuning = mlContext.Transforms.Conversion.MapValueToKey("Label")
        .Append(mlContext.MulticlassClassification.Trainers.Wav2Vec2AudioClassification(new Wav2Vec2AudioClassificationOptions
        {
            ModelDirectory = modelDir, AudioColumnName = "Path", AudioFolder = Path.Combine(dataDir, "clips"),
            MaxUpdates = int.Parse(args[finetune + 1]), LearningRate = 3e-4f, MaxTokens = 320_000, Seed = 1,
        }))
        .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    ITransformer fineTuned = fineTuning.Fit(split.TrainSet);
    var fineTunedMetrics = mlContext.MulticlassClassification.Evaluate(fineTuned.Transform(split.TestSet));
    Console.WriteLine($"fine-tuned: macro accuracy {fineTunedMetrics.MacroAccuracy:P1}, micro accuracy {fineTunedMetrics.MicroAccuracy:P1}, " +
        $"log-loss {fineTunedMetrics.LogLoss:F3}");
    mlContext.Model.SaveWav2Vec2(fineTuned, data.Schema, "voice-classifier-finetuned.zip");   // the fine-tuned weights inside
}

static string RandomBaseModel(string family)
{
    string directory = Path.Combine(Path.GetTempPath(), $"{family}-base-random");
    Wav2Vec2Config config = Wav2Vec2Config.Preset("base");
    config.ModelType = family;   // e.g. "wavlm": BASE's layout with WavLM's gated relative position bias (WavLM Base+)
    if (!File.Exists(Path.Combine(directory, "config.json")))
        new Wav2Vec2Model(config, new RandomSource(0)).SavePretrained(directory);
    return directory;
}

public sealed class Clip
{
    [LoadColumn(0)] public string Path { get; set; } = "";
    [LoadColumn(1)] public string Label { get; set; } = "";
}

public sealed class Prediction
{
    public string PredictedLabel { get; set; } = "";
    public float[] Score { get; set; } = [];
}
