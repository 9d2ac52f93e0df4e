using Microsoft.ML.Data;
using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>Wav2Vec2AudioClassification: class probabilities of each clip (Score, slot names = the classes) and the
/// most probable class (PredictedLabel, a key whose values are the class names, as MapValueToKey made the label).</summary>
internal sealed class ClassificationMapper : ModelMapper
{
    public ClassificationMapper(AudioInputSettings input, Wav2Vec2ForSequenceClassification model, ClassificationSettings settings)
        : base(input, model, model.Backbone, settings.ThreadCount)
    {
        Model = model;
        model.Train(false);
        Settings = settings;
        Outputs = Columns(settings, model.Config.Labels);
    }

    public Wav2Vec2ForSequenceClassification Model { get; }
    public ClassificationSettings Settings { get; }

    public override string Name => "Wav2Vec2AudioClassification";

    public override IReadOnlyList<OutputColumn> Outputs { get; }

    /// <summary>The Score and PredictedLabel columns for <paramref name="classes"/>.</summary>
    public static List<OutputColumn> Columns(ClassificationSettings settings, IReadOnlyList<string> classes) =>
    [
        new(settings.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, classes.Count), ColumnAnnotations.Text("SlotNames", classes)),
        new(settings.PredictedLabelColumnName, new KeyDataViewType(typeof(uint), classes.Count), ColumnAnnotations.Text("KeyValues", classes)),
    ];

    protected override object[][] ComputeWithModel(IReadOnlyList<AudioItem> items) =>
        Model.Probabilities(Clips(items), Input.BatchSize, Settings.Chunking, Input.CancellationToken)
            .Select(p => new object[] { p, (uint)System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p) + 1 }).ToArray();
}

/// <summary>The classification transform's own settings (what SaveWav2Vec2 stores beside the weights and classes).</summary>
internal sealed record ClassificationSettings(string ScoreColumnName, string PredictedLabelColumnName, ChunkingOptions? Chunking, int? ThreadCount);
