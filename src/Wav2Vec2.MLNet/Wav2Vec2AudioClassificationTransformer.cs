using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>
/// The fitted form of <see cref="Wav2Vec2AudioClassificationTrainer"/>: a fine-tuned Hugging Face
/// Wav2Vec2ForSequenceClassification over an audio column, adding Score (class probabilities, slot names = the
/// classes) and PredictedLabel (a key whose values are the class names, so MapKeyToValue and
/// <c>mlContext.MulticlassClassification.Evaluate</c> work as with any ML.NET multiclass trainer).
/// </summary>
/// <example><code>
/// Wav2Vec2AudioClassificationTransformer classifier = trainer.Fit(train);
/// var metrics = mlContext.MulticlassClassification.Evaluate(classifier.Transform(test));
/// Console.WriteLine(string.Join(", ", classifier.Classes));
/// </code></example>
public sealed class Wav2Vec2AudioClassificationTransformer : AudioTransformerBase
{
    internal Wav2Vec2AudioClassificationTransformer(ClassificationMapper mapper) : base(mapper)
    {
    }

    internal ClassificationMapper Classifier => (ClassificationMapper)Mapper;

    /// <summary>The fine-tuned model (shared by every cursor); <c>Model.SavePretrained(dir)</c> writes a Hugging Face directory.</summary>
    public Wav2Vec2ForSequenceClassification Model => Classifier.Model;

    /// <summary>The class names in key order (key value i + 1 is class i).</summary>
    public IReadOnlyList<string> Classes => Model.Config.Labels;
}
