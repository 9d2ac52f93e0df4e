// Speech recognition trained end to end in ML.NET: self-supervised pre-training on the audio, CTC fine-tuning on the
// transcripts, WER on held-out utterances, save, load and transcribe.
// Data: bash tools/make-speech-corpus.sh corpus 25 4     (espeak-ng + fortunes; corpus/transcripts.tsv lists the clips)
// Run:  dotnet run -c Release -- corpus [PRETRAIN_UPDATES] [FINETUNE_UPDATES]
// Runs live in runs/pretrain and runs/asr: run again to continue from their checkpoints (Ctrl+C stops cleanly).
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Wav2Vec2.Decoding;
using Wav2Vec2.MLNet;

string dataDir = args.Length > 0 ? args[0] : "corpus";
int preTrainUpdates = args.Length > 1 ? int.Parse(args[1]) : 300;
int fineTuneUpdates = args.Length > 2 ? int.Parse(args[2]) : 1000;
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };   // finish the batch, save a checkpoint

var mlContext = new MLContext(seed: 0);
mlContext.Log += (_, e) => { if (e.Source.StartsWith("Wav2Vec2") && e.Kind != ChannelMessageKind.Trace) Console.WriteLine(e.RawMessage); };

IDataView data = mlContext.Data.LoadFromTextFile<Utterance>(Path.Combine(dataDir, "transcripts.tsv"));
var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 0);

// 1. Self-supervised pre-training on the audio alone (an unsupervised learned transform, like PCA): Fit returns the
//    Wav2Vec2Features transformer of the pre-trained model.
Wav2Vec2FeaturesTransformer preTrained = mlContext.Transforms.Wav2Vec2PreTrain(new Wav2Vec2PreTrainingOptions
{
    Preset = "tiny", MaxUpdates = preTrainUpdates, AudioColumnName = "Path", AudioFolder = dataDir,
    OutputDirectory = "runs/pretrain", ResumeFromCheckpoint = true, CancellationToken = stop.Token,
}).Fit(split.TrainSet);

// 2. CTC fine-tuning of that model on the transcripts (mlContext.SpeechRecognition: ML.NET has no catalog for the task).
Wav2Vec2TranscribeTransformer asr = mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc(new Wav2Vec2CtcTrainerOptions
{
    Model = preTrained.Model, TranscriptColumnName = "Transcript", AudioColumnName = "Path", AudioFolder = dataDir,
    Preset = "tiny", MaxUpdates = fineTuneUpdates, ValidationData = split.TestSet,
    OutputDirectory = "runs/asr", ResumeFromCheckpoint = true, CancellationToken = stop.Token,
}).Fit(split.TrainSet);

// 3. Word and character error rates on the held-out utterances.
TranscriptionMetrics metrics = mlContext.SpeechRecognition.Evaluate(asr.Transform(split.TestSet), labelColumnName: "Transcript");
Console.WriteLine($"test set: WER {metrics.WordErrorRate:P1} ({metrics.Words.Substitutions} substitutions, {metrics.Words.Deletions} " +
    $"deletions, {metrics.Words.Insertions} insertions in {metrics.Words.ReferenceLength} words), CER {metrics.CharacterErrorRate:P1}");

// 4. One zip with the fine-tuned weights and vocabulary; load it and transcribe.
mlContext.Model.SaveWav2Vec2(asr, data.Schema, "asr.zip");
ITransformer loaded = mlContext.Model.LoadWav2Vec2("asr.zip", out DataViewSchema inputSchema);
var engine = mlContext.Model.CreatePredictionEngine<Utterance, Transcription>(loaded, inputSchema: inputSchema);
foreach (Utterance utterance in mlContext.Data.CreateEnumerable<Utterance>(split.TestSet, reuseRowObject: false).Take(3))
    Console.WriteLine($"{utterance.Path}: \"{engine.Predict(utterance).PredictedTranscript}\" (reference: \"{utterance.Transcript}\")");

public sealed class Utterance
{
    [LoadColumn(0)] public string Path { get; set; } = "";
    [LoadColumn(1)] public string Transcript { get; set; } = "";
}

public sealed class Transcription
{
    public string PredictedTranscript { get; set; } = "";
}
