using Microsoft.ML.Data;
using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>Wav2Vec2Features: the hidden states of some layers, from one forward pass per clip, pooled per column.</summary>
internal sealed class FeaturesMapper : ModelMapper
{
    public FeaturesMapper(AudioInputSettings input, Wav2Vec2Model model, FeaturesSettings settings)
        : base(input, model, model, settings.ThreadCount)
    {
        Model = model;
        model.Train(false);
        Settings = settings;
        Outputs = Columns(model.Config, settings, out int[] layers);
        Layers = layers;
    }

    /// <summary>The columns the transform adds for a model of <paramref name="config"/>, and the resolved layers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A layer is out of the model's range.</exception>
    public static List<OutputColumn> Columns(Wav2Vec2Config config, FeaturesSettings settings, out int[] layers)
    {
        const string name = "Wav2Vec2Features";
        int layerCount = config.NumHiddenLayers;
        layers = settings.Layers.Select(layer => layer < 0 ? layerCount + 1 + layer : layer).ToArray();
        for (int i = 0; i < layers.Length; i++)
            if (layers[i] < 0 || layers[i] > layerCount)
                throw new ArgumentOutOfRangeException(nameof(settings), $"{name}: layer {settings.Layers[i]} is out of range: " +
                    $"this model has hidden states 0 to {layerCount} (or -1 to {-layerCount - 1} from the end)");
        if (layers.Distinct().Count() != layers.Length)
            throw new ArgumentException($"{name}: layers {string.Join(", ", settings.Layers)} name the same layer twice", nameof(settings));
        int hidden = config.HiddenSize, size = Pooling.Size(settings.Pooling, hidden);
        var type = new VectorDataViewType(NumberDataViewType.Single, size);
        var outputs = new List<OutputColumn>();
        if (settings.AverageLayers || layers.Length == 1)
            outputs.Add(new OutputColumn(settings.OutputColumnName, type,
                Pooling.SlotNames(string.Join("+", layers), settings.Pooling, hidden)));
        else
            outputs.AddRange(layers.Select(layer => new OutputColumn($"{settings.OutputColumnName}_L{layer}", type,
                Pooling.SlotNames(layer.ToString(System.Globalization.CultureInfo.InvariantCulture), settings.Pooling, hidden))));
        if (settings.Pooling == Wav2Vec2Pooling.None)
            outputs.Add(new OutputColumn(settings.FrameCountColumnName ?? settings.OutputColumnName + "FrameCount",
                NumberDataViewType.Int32));
        return outputs;
    }

    public Wav2Vec2Model Model { get; }
    public FeaturesSettings Settings { get; }

    /// <summary>Resolved layer indices, in request order.</summary>
    public int[] Layers { get; }

    public override string Name => "Wav2Vec2Features";

    public override IReadOnlyList<OutputColumn> Outputs { get; }

    protected override object[][] ComputeWithModel(IReadOnlyList<AudioItem> items) =>
        Model.ExtractHiddenStates(Clips(items), Layers, Input.BatchSize, Settings.Chunking, Input.CancellationToken)
            .Select(Values).ToArray();

    private object[] Values(Tensor[] layers)
    {
        var values = new List<object>();
        if (Settings.AverageLayers && layers.Length > 1)
            values.Add(Pooling.Pool(Average(layers), Settings.Pooling));
        else
            values.AddRange(layers.Select(layer => Pooling.Pool(layer, Settings.Pooling)));
        if (Settings.Pooling == Wav2Vec2Pooling.None)
            values.Add(layers[0].Size(0));
        return values.ToArray();
    }

    private static Tensor Average(Tensor[] layers)
    {
        var sum = new float[layers[0].Length];
        foreach (Tensor layer in layers)
            System.Numerics.Tensors.TensorPrimitives.Add(sum, layer.Span, sum);
        System.Numerics.Tensors.TensorPrimitives.Multiply(sum, 1f / layers.Length, sum);
        return Tensor.FromArray(sum, layers[0].ShapeArray);
    }
}

/// <summary>The features transform's own settings (what SaveWav2Vec2 stores beside the weights).</summary>
internal sealed record FeaturesSettings(string OutputColumnName, int[] Layers, bool AverageLayers, Wav2Vec2Pooling Pooling,
    string? FrameCountColumnName, ChunkingOptions? Chunking, int? ThreadCount);
