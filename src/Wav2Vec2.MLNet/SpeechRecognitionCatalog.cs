using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.Decoding;
using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Speech recognition in ML.NET's catalog style, <c>mlContext.SpeechRecognition</c>: trainers
/// (<see cref="SpeechRecognitionTrainers.Wav2Vec2Ctc(Wav2Vec2CtcTrainerOptions)"/>) and an evaluator of transcripts
/// (word and character error rates). ML.NET 6.0.0 has no catalog for the task (its catalogs are per prediction kind:
/// BinaryClassification, MulticlassClassification, Regression, Ranking, Clustering, AnomalyDetection, Forecasting), and a
/// speech recognizer is none of those: its label and output are text and its metrics are edit rates. So this catalog
/// mirrors theirs (<c>Trainers</c> and <c>Evaluate</c>); it hangs off MLContext as an extension property
/// (<see cref="SpeechRecognitionMLContextExtensions"/>), since MLContext's own catalogs cannot be extended.
/// </summary>
/// <example><code>
/// var asr = mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc("pretrained", audioColumnName: "Path", audioFolder: "clips").Fit(train);
/// TranscriptionMetrics metrics = mlContext.SpeechRecognition.Evaluate(asr.Transform(test));
/// Console.WriteLine($"WER {metrics.WordErrorRate:P1} ({metrics.Words.Substitutions} S, {metrics.Words.Deletions} D, {metrics.Words.Insertions} I)");
/// </code></example>
public sealed class SpeechRecognitionCatalog
{
    private readonly MLContext _mlContext;

    internal SpeechRecognitionCatalog(MLContext mlContext)
    {
        _mlContext = mlContext;
        Environment = MLNetInterop.Environment(mlContext);
        Trainers = new SpeechRecognitionTrainers(this);
    }

    internal Microsoft.ML.Runtime.IHostEnvironment? Environment { get; }

    /// <summary>The speech recognition trainers.</summary>
    public SpeechRecognitionTrainers Trainers { get; }

    /// <summary>
    /// Labeled audio in any layout the core reads (a Common Voice TSV with its clips/ folder, a Hugging Face audio
    /// folder's metadata.csv, a LibriSpeech tree, a fairseq manifest with .wrd/.ltr, a path&lt;TAB&gt;transcript TSV; see
    /// <see cref="Data.AudioDataset.OpenTranscribed"/>) as rows of <see cref="TranscribedAudio"/>: an absolute Path for
    /// <c>LoadAudio</c> or the trainers, and its Transcript as given. Files that are missing or unreadable are left
    /// out, each named in a warning on mlContext.Log; reading the headers of a large corpus reports on ML.NET's
    /// progress channel.
    /// </summary>
    /// <example><code>
    /// IDataView train = mlContext.SpeechRecognition.LoadTranscribedAudio("cv-corpus/fr/train.tsv");
    /// var asr = mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc("facebook/wav2vec2-base", audioColumnName: "Path").Fit(train);
    /// </code></example>
    /// <exception cref="InvalidDataException">A malformed layout, or no readable recording.</exception>
    public IDataView LoadTranscribedAudio(string source)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        const string name = "LoadTranscribedAudio";
        Data.DatasetScanProgress last = default;
        Data.AudioDataset data;
        using (Microsoft.ML.Runtime.IProgressChannel? channel = Environment?.StartProgressChannel(name))
        {
            channel?.SetHeader(new Microsoft.ML.Runtime.ProgressHeader(["files"], ["file"]), entry => entry.SetProgress(0, last.Done, last.Total));
            data = Data.AudioDataset.OpenTranscribed(source, new ProgressSink<Data.DatasetScanProgress>(p => last = p));
        }
        foreach (string skipped in data.Skipped)
            MLNetInterop.Warning(Environment, name, $"skipped {skipped}");
        return _mlContext.Data.LoadFromEnumerable(data.Entries.Select(e => new TranscribedAudio { Path = e.Path, Transcript = e.Transcript ?? "" }));
    }

    /// <summary>
    /// Scores predicted transcripts against references, both normalised (<see cref="Models.TranscriptNormalizer"/>): word
    /// and character error rates pooled over the rows (total errors over total reference length) with their
    /// substitutions, deletions and insertions; the style of <c>mlContext.MulticlassClassification.Evaluate</c>.
    /// </summary>
    /// <param name="data">Rows with both columns (a transformer's output).</param>
    /// <param name="labelColumnName">The Text column of reference transcripts.</param>
    /// <param name="predictedTranscriptColumnName">The Text column of predicted transcripts.</param>
    /// <example><code>
    /// TranscriptionMetrics metrics = mlContext.SpeechRecognition.Evaluate(asr.Transform(test), labelColumnName: "Transcript");
    /// Console.WriteLine($"WER {metrics.WordErrorRate:P2}, CER {metrics.CharacterErrorRate:P2} over {metrics.Utterances} utterances");
    /// </code></example>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or not Text.</exception>
    public TranscriptionMetrics Evaluate(IDataView data, string labelColumnName = "Transcript",
        string predictedTranscriptColumnName = "PredictedTranscript")
    {
        ArgumentNullException.ThrowIfNull(data);
        const string name = "SpeechRecognition.Evaluate";
        DataViewSchema.Column reference = SchemaErrors.Check(name, data.Schema, labelColumnName, "Text", t => t is TextDataViewType);
        DataViewSchema.Column predicted = SchemaErrors.Check(name, data.Schema, predictedTranscriptColumnName, "Text", t => t is TextDataViewType);
        var results = new List<TranscriptionResult>();
        using DataViewRowCursor cursor = data.GetRowCursor([reference, predicted]);
        ValueGetter<ReadOnlyMemory<char>> getReference = cursor.GetGetter<ReadOnlyMemory<char>>(reference);
        ValueGetter<ReadOnlyMemory<char>> getPredicted = cursor.GetGetter<ReadOnlyMemory<char>>(predicted);
        ReadOnlyMemory<char> r = default, h = default;
        while (cursor.MoveNext())
        {
            getReference(ref r);
            getPredicted(ref h);
            results.Add(TranscriptionResult.Score($"row {cursor.Position}", r.ToString(), h.ToString()));
        }
        TranscriptionMetrics metrics = TranscriptionMetrics.From(results);
        MLNetInterop.Info(Environment, name, $"{metrics.Utterances} utterances: WER {metrics.WordErrorRate:P2}, CER {metrics.CharacterErrorRate:P2}");
        return metrics;
    }

    /// <summary>The trainers of <c>mlContext.SpeechRecognition.Trainers</c>.</summary>
    /// <example><code>
    /// var trainer = mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc(new Wav2Vec2CtcTrainerOptions { ModelDirectory = "pretrained" });
    /// </code></example>
    public sealed class SpeechRecognitionTrainers
    {
        private readonly SpeechRecognitionCatalog _catalog;

        internal SpeechRecognitionTrainers(SpeechRecognitionCatalog catalog) => _catalog = catalog;

        /// <summary>CTC fine-tuning of the pre-trained model in a directory, with a fairseq preset.</summary>
        /// <param name="pretrainedModelDirectory">A Hugging Face directory (backbone, pre-training or CTC checkpoint).</param>
        /// <param name="labelColumnName">The Text column of reference transcripts.</param>
        /// <param name="audioColumnName">Text (audio file paths) or a vector of Single (16 kHz samples).</param>
        /// <param name="outputColumnName">The Text column of the returned transformer.</param>
        /// <param name="preset">"10m", "1h", "10h", "100h" (fairseq's BASE recipes) or "tiny" (CPU-sized).</param>
        /// <param name="maxUpdates">Updates to train (null: the preset's).</param>
        /// <param name="audioFolder">The folder relative paths are resolved against.</param>
        /// <example><code>
        /// var trainer = mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc("pretrained", "Transcript", "Path", preset: "tiny", maxUpdates: 1500, audioFolder: "clips");
        /// </code></example>
        public Wav2Vec2CtcTrainer Wav2Vec2Ctc(string pretrainedModelDirectory, string labelColumnName = "Transcript",
            string audioColumnName = "Audio", string outputColumnName = "PredictedTranscript", string preset = "10m",
            int? maxUpdates = null, string? audioFolder = null) =>
            Wav2Vec2Ctc(new Wav2Vec2CtcTrainerOptions
            {
                ModelDirectory = pretrainedModelDirectory, TranscriptColumnName = labelColumnName, AudioColumnName = audioColumnName,
                OutputColumnName = outputColumnName, Preset = preset, MaxUpdates = maxUpdates, AudioFolder = audioFolder,
            });

        /// <summary>CTC fine-tuning of the model a Wav2Vec2PreTrain Fit returned.</summary>
        /// <param name="pretrained">The pre-training estimator's transformer (its backbone is copied, not changed).</param>
        /// <param name="labelColumnName">The Text column of reference transcripts.</param>
        /// <param name="audioColumnName">Text (audio file paths) or a vector of Single (16 kHz samples).</param>
        /// <param name="outputColumnName">The Text column of the returned transformer.</param>
        /// <param name="preset">"10m", "1h", "10h", "100h" (fairseq's BASE recipes) or "tiny" (CPU-sized).</param>
        /// <param name="maxUpdates">Updates to train (null: the preset's).</param>
        /// <param name="audioFolder">The folder relative paths are resolved against.</param>
        /// <example><code>
        /// Wav2Vec2FeaturesTransformer preTrained = mlContext.Transforms.Wav2Vec2PreTrain("Features", "Path", audioFolder: "clips").Fit(unlabeled);
        /// var asr = mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc(preTrained, audioColumnName: "Path", preset: "tiny", audioFolder: "clips").Fit(labeled);
        /// </code></example>
        public Wav2Vec2CtcTrainer Wav2Vec2Ctc(Wav2Vec2FeaturesTransformer pretrained, string labelColumnName = "Transcript",
            string audioColumnName = "Audio", string outputColumnName = "PredictedTranscript", string preset = "10m",
            int? maxUpdates = null, string? audioFolder = null) =>
            Wav2Vec2Ctc(new Wav2Vec2CtcTrainerOptions
            {
                Model = (pretrained ?? throw new ArgumentNullException(nameof(pretrained))).Model, TranscriptColumnName = labelColumnName,
                AudioColumnName = audioColumnName, OutputColumnName = outputColumnName, Preset = preset, MaxUpdates = maxUpdates,
                AudioFolder = audioFolder,
            });

        /// <summary>CTC fine-tuning with every option (recipe, freezing, masking, learning rate, vocabulary, validation,
        /// run directory, resume, threads, cancellation, decoder).</summary>
        /// <example><code>
        /// var trainer = mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc(new Wav2Vec2CtcTrainerOptions
        /// {
        ///     ModelDirectory = "wav2vec2-base", Preset = "1h", UpdateFreq = 8, ValidationData = dev, OutputDirectory = "asr-run",
        /// });
        /// </code></example>
        public Wav2Vec2CtcTrainer Wav2Vec2Ctc(Wav2Vec2CtcTrainerOptions options) =>
            new(_catalog.Environment, options ?? throw new ArgumentNullException(nameof(options)));
    }
}

/// <summary>
/// <c>mlContext.SpeechRecognition</c>: an extension property (C# 14, .NET 10 SDK) giving MLContext the speech
/// recognition catalog beside its own (<c>mlContext.MulticlassClassification</c>, <c>mlContext.Regression</c>, ...).
/// </summary>
/// <example><code>
/// SpeechRecognitionCatalog speech = mlContext.SpeechRecognition;
/// </code></example>
public static class SpeechRecognitionMLContextExtensions
{
    extension(MLContext mlContext)
    {
        /// <summary>The speech recognition catalog: trainers and evaluation.</summary>
        /// <example><code>
        /// var trainer = mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc("pretrained");
        /// </code></example>
        public SpeechRecognitionCatalog SpeechRecognition => new(mlContext ?? throw new ArgumentNullException(nameof(mlContext)));
    }
}

/// <summary>A row of <see cref="SpeechRecognitionCatalog.LoadTranscribedAudio"/>: a recording and its transcript.</summary>
public sealed class TranscribedAudio
{
    /// <summary>The audio file, an absolute path.</summary>
    public string Path { get; set; } = "";

    /// <summary>The transcript as the dataset gives it (normalised later, in the vocabulary's case).</summary>
    public string Transcript { get; set; } = "";
}
