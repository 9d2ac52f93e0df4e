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
/// CTC fine-tuning of a pre-trained wav2vec 2.0 model into a speech recognizer, as an ML.NET trainer: <see cref="Wav2Vec2TrainerBase{TTransformer}.Fit"/>
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
public sealed class Wav2Vec2CtcTrainer : Wav2Vec2TrainerBase<Wav2Vec2TranscribeTransformer>
{
    private readonly Wav2Vec2CtcTrainerOptions _options;

    internal Wav2Vec2CtcTrainer(IHostEnvironment? environment, Wav2Vec2CtcTrainerOptions options)
        : base(environment, Checked(options), "Wav2Vec2CtcTrainer", transcript: options.TranscriptColumnName)
    {
        _options = options;
    }

    private static Wav2Vec2CtcTrainerOptions Checked(Wav2Vec2CtcTrainerOptions options)
    {
        options.Validate();
        return options;
    }

    private protected override IEnumerable<OutputColumn> OutputColumns() => [new OutputColumn(_options.OutputColumnName, TextDataViewType.Instance)];

    // Fine-tunes with CTC (validating by greedy WER) and returns the transcription transformer of the final model.
    private protected override Wav2Vec2TranscribeTransformer Train(TrainingSession session, AudioDataset train, AudioDataset? valid, DataViewSchema schema)
    {
        CtcFineTuningOptions recipe = _options.ResolveRecipe();
        string pretrained = session.StartingModel(_options.ModelDirectory, _options.Model)!;
        CtcFineTuner tuner = session.Prepare((run, resume, log) => CtcFineTuner.Prepare(pretrained, train, recipe, run, resume, _options.Vocabulary, log));
        session.Train(tuner, token => tuner.Train(train, valid, token));
        var settings = new TranscribeSettings(_options.OutputColumnName, _options.Decoding, _options.Chunking, _options.ThreadCount);
        return new Wav2Vec2TranscribeTransformer(new TranscribeMapper(_options.InputSettings(Environment), tuner.Model, settings));
    }
}
