using Microsoft.ML.Data;
using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>
/// The experiment's one pass: every requested layer of a clip, reduced to its mean, standard deviation and maximum over
/// frames (columns "L{layer}.mean", ".std", ".max"), from which every pooling of every layer is assembled without
/// running the model again. The values are those <see cref="FeaturesMapper"/> computes for the same layer and pooling.
/// </summary>
internal sealed class LayerStatisticsMapper : ModelMapper
{
    public static readonly string[] Statistics = ["mean", "std", "max"];

    public LayerStatisticsMapper(AudioInputSettings input, Wav2Vec2Model model, int[] layers, ChunkingOptions? chunking)
        : base(input, model, model, null)
    {
        Model = model;
        model.Train(false);
        Layers = layers;
        Chunking = chunking;
        int hidden = model.Config.HiddenSize;
        var type = new VectorDataViewType(NumberDataViewType.Single, hidden);
        Outputs = layers.SelectMany(layer => Statistics.Select(statistic => new OutputColumn(ColumnName(layer, statistic), type,
            Pooling.SlotNames(layer.ToString(System.Globalization.CultureInfo.InvariantCulture),
                statistic == "max" ? Wav2Vec2Pooling.Max : Wav2Vec2Pooling.Mean, hidden)))).ToList();
    }

    public Wav2Vec2Model Model { get; }
    public int[] Layers { get; }
    public ChunkingOptions? Chunking { get; }

    public override string Name => "Wav2Vec2Experiment";

    public override IReadOnlyList<OutputColumn> Outputs { get; }

    public static string ColumnName(int layer, string statistic) => $"L{layer}.{statistic}";

    /// <summary>The statistics columns that make up <paramref name="pooling"/> of <paramref name="layer"/>, in order.</summary>
    public static string[] PoolingColumns(int layer, Wav2Vec2Pooling pooling) => pooling switch
    {
        Wav2Vec2Pooling.Mean => [ColumnName(layer, "mean")],
        Wav2Vec2Pooling.MeanAndStd => [ColumnName(layer, "mean"), ColumnName(layer, "std")],
        Wav2Vec2Pooling.Max => [ColumnName(layer, "max")],
        _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "a sweep needs known-size features: Mean, MeanAndStd or Max"),
    };

    protected override object[][] ComputeWithModel(IReadOnlyList<AudioItem> items) =>
        Model.ExtractHiddenStates(Clips(items), Layers, Input.BatchSize, Chunking, Input.CancellationToken).Select(states =>
        {
            var values = new List<object>();
            int hidden = Model.Config.HiddenSize;
            foreach (Tensor layer in states)
            {
                float[] meanAndStd = Pooling.Pool(layer, Wav2Vec2Pooling.MeanAndStd);
                values.Add(meanAndStd[..hidden]);
                values.Add(meanAndStd[hidden..]);
                values.Add(Pooling.Pool(layer, Wav2Vec2Pooling.Max));
            }
            return values.ToArray();
        }).ToArray();
}
