using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Wav2Vec2.Data;
using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;
using Wav2Vec2.Training;

namespace Wav2Vec2.MLNet;

/// <summary>
/// CTC fine-tuning of a pre-trained wav2vec 2.0 model into a speech recognizer, as an ML.NET trainer: <see cref="Fit"/>
/// reads the audio and transcript columns, runs the core's <see cref="CtcFineTuner"/> (fairseq's wav2vec2_asr recipe,
/// exactly what <c>w2v2 finetune</c> runs for the same data, seed and settings) and returns the
/// <see cref="Wav2Vec2TranscribeTransformer"/> of the fine-tuned model. Create it with
/// <c>mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc(...)</c>.
/// </summary>
/// <example><code>
/// var trainer = mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc("pretrained", audioColumnName: "Path", preset: "tiny", audioFolder: "clips");
/// Wav2Vec2TranscribeTransformer asr = trainer.Fit(labeled);
/// TranscriptionMetrics metrics = mlContext.SpeechRecognition.Evaluate(asr.Transform(test));
/// </code></example>
public sealed class Wav2Vec2CtcTrainer : IEstimator<Wav2Vec2TranscribeTransformer>
{
    private const string Name = "Wav2Vec2CtcTrainer";
    private readonly IHostEnvironment? _environment;
    private readonly Wav2Vec2CtcTrainerOptions _options;
    private readonly TrainingColumns _columns;

    internal Wav2Vec2CtcTrainer(IHostEnvironment? environment, Wav2Vec2CtcTrainerOptions options)
    {
        options.Validate();
        _environment = environment;
        _options = options;
        _columns = new TrainingColumns(Name, options.AudioColumnName, options.AudioFolder == null ? null : Path.GetFullPath(options.AudioFolder),
            Transcript: options.TranscriptColumnName);
    }

    /// <summary>The input shape plus the transcript column the fitted transformer adds, after checking the audio and
    /// transcript columns.</summary>
    /// <example><code>
    /// SchemaShape shape = trainer.GetOutputSchema(previousEstimator.GetOutputSchema(inputShape));
    /// </code></example>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _columns.Check(inputSchema);
        return SchemaErrors.WithColumns(inputSchema, [new OutputColumn(_options.OutputColumnName, TextDataViewType.Instance)]);
    }

    /// <summary>
    /// Fine-tunes on every row (audio and transcript), validating on <see cref="Wav2Vec2TrainingOptions.ValidationData"/>
    /// by greedy WER, and returns the transcription transformer of the final model (the best by WER is in the run
    /// directory's best/).
    /// </summary>
    /// <example><code>
    /// Wav2Vec2TranscribeTransformer asr = trainer.Fit(labeled);
    /// asr.Model.SavePretrained("my-asr");   // a Hugging Face Wav2Vec2ForCTC directory
    /// </code></example>
    /// <exception cref="OperationCanceledException">The options' token stopped training; the message names the checkpoint.</exception>
    public Wav2Vec2TranscribeTransformer Fit(IDataView input)
    {
        _columns.Check(input.Schema);
        if (_options.ValidationData != null)
            _columns.Check(_options.ValidationData.Schema);
        CtcFineTuningOptions recipe = _options.ResolveRecipe();
        using var session = new TrainingSession(_environment, Name, _options);
        AudioDataset train = TrainingData.Read(input, _columns, null, _options.CancellationToken);
        AudioDataset? valid = _options.ValidationData == null ? null : TrainingData.Read(_options.ValidationData, _columns, null, _options.CancellationToken);
        string pretrained = session.Pretrained(_options.PretrainedModelDirectory, _options.PretrainedModel);
        CtcTokenizer vocabulary = Vocabulary(session, pretrained, train);
        Wav2Vec2ForCtc model = CtcFineTuner.CreateModel(pretrained, vocabulary, recipe, out Wav2Vec2.IO.LoadReport report);
        session.Info($"initialised from {_options.PretrainedModelDirectory ?? "the given model"}: {report.Ignored.Count} head tensor(s) " +
            $"ignored, {report.Missing.Count} new (CTC head of {vocabulary.Count} tokens)");
        var tuner = new CtcFineTuner(model, recipe, session.OutputDirectory);
        session.Train(tuner, tuner.TryResume, token => tuner.Train(train, valid, token));
        var settings = new TranscribeSettings(_options.OutputColumnName, _options.Decoding, _options.Chunking, _options.ThreadCount);
        return new Wav2Vec2TranscribeTransformer(new TranscribeMapper(_options.InputSettings(_environment), model, settings));
    }

    // The given vocabulary, else the resumed checkpoint's, else the pre-trained model's, else the transcripts' (as w2v2 finetune).
    private CtcTokenizer Vocabulary(TrainingSession session, string pretrained, AudioDataset train)
    {
        string? checkpoint = _options.ResumeFromCheckpoint ? PreTrainer.LatestCheckpoint(session.OutputDirectory) : null;
        if (_options.Vocabulary != null)
            return _options.Vocabulary;
        foreach (string? directory in new[] { checkpoint, pretrained })
            if (directory != null && File.Exists(Path.Combine(directory, "vocab.json")))
            {
                session.Info($"vocabulary: {Path.Combine(directory, "vocab.json")}");
                return CtcTokenizer.Load(directory);
            }
        CtcTokenizer built = CtcFineTuner.BuildVocabulary(train);
        session.Info(string.Create(CultureInfo.InvariantCulture, $"vocabulary: {built.Count} tokens built from the training transcripts"));
        return built;
    }
}
