using System.Reflection;
using Microsoft.ML.Data;
using Microsoft.ML;
using Wav2Vec2.Audio;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.MLNet;

/// <summary>A labeled clip as ML.NET reads it from an enumerable.</summary>
public sealed class ClipRow
{
    public string Path { get; set; } = "";
    public string Label { get; set; } = "";
}

/// <summary>Synthesised labeled audio (tones with harmonics and noise, one pitch per class) and tiny models.</summary>
internal static class MLNetTestData
{
    /// <summary>
    /// Writes <paramref name="perClass"/> clips of each of <paramref name="classes"/> pitches into
    /// <paramref name="folder"/> (16-bit WAV at <paramref name="rate"/> Hz) and returns their rows (relative paths).
    /// </summary>
    public static List<ClipRow> WriteTones(string folder, int classes, int perClass, double seconds = 0.25, int rate = 16000)
    {
        var rows = new List<ClipRow>();
        var random = new Random(7);
        for (int c = 0; c < classes; c++)
            for (int i = 0; i < perClass; i++)
            {
                string name = $"c{c}_{i}.wav";
                File.WriteAllBytes(System.IO.Path.Combine(folder, name), WavWriter.Encode(Tone(110 * (c + 1) * (1 + 0.03 * i), seconds, rate, random)));
                rows.Add(new ClipRow { Path = name, Label = $"class{c}" });
            }
        return rows;
    }

    public static AudioClip Tone(double frequency, double seconds, int rate, Random random)
    {
        var samples = new float[(int)(seconds * rate)];
        for (int t = 0; t < samples.Length; t++)
        {
            double phase = 2 * Math.PI * frequency * t / rate;
            samples[t] = (float)(0.4 * Math.Sin(phase) + 0.2 * Math.Sin(2 * phase) + 0.05 * (random.NextDouble() - 0.5));
        }
        return new AudioClip(samples, rate);
    }

    /// <summary>A randomly initialised 2-layer, 16-wide model (group-norm encoder, 10 samples per frame).</summary>
    public static Wav2Vec2Model TinyModel(ulong seed = 1)
    {
        var model = new Wav2Vec2Model(TinyConfig(), new RandomSource(seed));
        model.Train(false);
        return model;
    }

    /// <summary>The tiny model saved as a Hugging Face directory under <paramref name="parent"/>.</summary>
    public static string TinyModelDirectory(string parent, ulong seed = 1)
    {
        string directory = System.IO.Path.Combine(parent, "model");
        TinyModel(seed).SavePretrained(directory);
        return directory;
    }

    /// <summary>
    /// The checkpoints reported on ML.NET progress channels named <paramref name="name"/>: metrics, progress and limit
    /// of the first unit. MLContext keeps them in its environment's ProgressTracker, which only ML.NET's own console
    /// host reads, so the test reaches it by reflection.
    /// </summary>
    public static List<(double?[] Metrics, double? Progress, double? Limit)> ProgressCheckpoints(MLContext ml, string name)
    {
        const BindingFlags Any = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
        object environment = typeof(MLContext).GetField("_env", Any)!.GetValue(ml)!;
        FieldInfo? field = null;
        for (Type? type = environment.GetType(); field == null && type != null; type = type.BaseType)
            field = type.GetField("ProgressTracker", Any);
        object tracker = field!.GetValue(environment)!;
        var events = (System.Collections.IEnumerable)tracker.GetType().GetMethod("GetAllProgress", Any)!.Invoke(tracker, null)!;
        var result = new List<(double?[], double?, double?)>();
        foreach (object e in events)
        {
            object? entry = e.GetType().GetField("ProgressEntry", Any)?.GetValue(e);
            if ((string)e.GetType().GetField("Name", Any)!.GetValue(e)! != name || entry == null
                || !(bool)entry.GetType().GetField("IsCheckpoint", Any)!.GetValue(entry)!)
                continue;
            double?[] Field(string f) => (double?[])entry.GetType().GetField(f, Any)!.GetValue(entry)!;
            result.Add((Field("Metrics"), Field("Progress")[0], Field("ProgressLim")[0]));
        }
        return result;
    }

    /// <summary>The schema shape of a data view (SchemaShape.Create is internal to ML.NET).</summary>
    public static SchemaShape ShapeOf(IDataView data) => data.Schema.ToSchemaShape();

    /// <summary>Every value of a float-vector column.</summary>
    public static List<float[]> Column(IDataView data, string name) => Columns(data, name)[0];

    /// <summary>Every value of several float-vector columns, read through one cursor.</summary>
    public static List<float[]>[] Columns(IDataView data, params string[] names)
    {
        var columns = names.Select(n => data.Schema[n]).ToArray();
        var values = names.Select(_ => new List<float[]>()).ToArray();
        using DataViewRowCursor cursor = data.GetRowCursor(columns);
        var getters = columns.Select(c => cursor.GetGetter<VBuffer<float>>(c)).ToArray();
        VBuffer<float> buffer = default;
        while (cursor.MoveNext())
            for (int i = 0; i < getters.Length; i++)
            {
                getters[i](ref buffer);
                values[i].Add(buffer.DenseValues().ToArray());
            }
        return values;
    }
}
