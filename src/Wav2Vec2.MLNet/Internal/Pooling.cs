using Microsoft.ML;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>Frames (frames, hidden) to one column value, and the slot names of pooled columns.</summary>
internal static class Pooling
{
    /// <summary>Values per frame-pooled vector (0: variable size, <see cref="Wav2Vec2Pooling.None"/>).</summary>
    public static int Size(Wav2Vec2Pooling pooling, int hidden) => pooling switch
    {
        Wav2Vec2Pooling.MeanAndStd => 2 * hidden,
        Wav2Vec2Pooling.None => 0,
        _ => hidden,
    };

    public static float[] Pool(Tensor frames, Wav2Vec2Pooling pooling)
    {
        int count = frames.Size(0), hidden = frames.Size(1);
        ReadOnlySpan<float> x = frames.Span;
        if (pooling == Wav2Vec2Pooling.None)
            return x.ToArray();
        var result = new float[Size(pooling, hidden)];
        for (int h = 0; h < hidden; h++)
        {
            // Statistics in double: a long recording has tens of thousands of frames.
            double sum = 0, max = double.NegativeInfinity;
            for (int t = 0; t < count; t++)
            {
                sum += x[t * hidden + h];
                max = Math.Max(max, x[t * hidden + h]);
            }
            double mean = sum / count;
            result[h] = (float)(pooling == Wav2Vec2Pooling.Max ? max : mean);
            if (pooling == Wav2Vec2Pooling.MeanAndStd)
            {
                double variance = 0;
                for (int t = 0; t < count; t++)
                    variance += (x[t * hidden + h] - mean) * (x[t * hidden + h] - mean);
                result[hidden + h] = (float)Math.Sqrt(variance / count);
            }
        }
        return result;
    }

    /// <summary>Slot names such as "L6.mean.0" (layers averaged: "L4+6.mean.0"); null for unpooled frames.</summary>
    public static DataViewSchema.Annotations? SlotNames(string layers, Wav2Vec2Pooling pooling, int hidden)
    {
        if (pooling == Wav2Vec2Pooling.None)
            return null;
        string[] kinds = pooling switch
        {
            Wav2Vec2Pooling.MeanAndStd => ["mean", "std"],
            Wav2Vec2Pooling.Max => ["max"],
            _ => ["mean"],
        };
        return ColumnAnnotations.Text("SlotNames", kinds.SelectMany(kind => Enumerable.Range(0, hidden).Select(i => $"L{layers}.{kind}.{i}")).ToArray());
    }
}
