using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.Audio;
using Wav2Vec2.Data;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>The columns a trainer reads: audio, and a transcript (Text) or a class (key) column.</summary>
/// <param name="Trainer">The trainer's name in messages.</param>
/// <param name="Audio">The audio column: Text paths or a vector of Single (16 kHz samples).</param>
/// <param name="AudioFolder">The folder relative paths are resolved against, or null.</param>
/// <param name="Transcript">A Text column of transcripts, or null.</param>
/// <param name="Label">A key column of classes, or null.</param>
internal sealed record TrainingColumns(string Trainer, string Audio, string? AudioFolder, string? Transcript = null, string? Label = null)
{
    /// <summary>Checks the columns of <paramref name="schema"/> (missing or mistyped columns fail here, with the column named).</summary>
    public void Check(DataViewSchema schema)
    {
        SchemaErrors.CheckAudio(Trainer, schema, Audio, acceptsSamples: true, out _);
        if (Transcript != null)
            SchemaErrors.Check(Trainer, schema, Transcript, "Text (a transcript)", type => type is TextDataViewType);
        if (Label != null)
            SchemaErrors.Check(Trainer, schema, Label, KeyExpectation, IsKey);
    }

    /// <summary>The same checks on an estimator's schema shape; returns the label column's shape, if any.</summary>
    public SchemaShape.Column? Check(SchemaShape shape)
    {
        SchemaErrors.CheckAudio(Trainer, shape, Audio, acceptsSamples: true);
        if (Transcript != null)
            SchemaErrors.Check(Trainer, shape, Transcript, "Text (a transcript)", type => type is TextDataViewType);
        return Label == null ? null : SchemaErrors.Check(Trainer, shape, Label, KeyExpectation, (column, type) => column.IsKey && type == NumberDataViewType.UInt32);
    }

    private const string KeyExpectation = "a key of UInt32 with at least two values (MapValueToKey makes one)";

    private static bool IsKey(DataViewType type) => type is KeyDataViewType { RawType: var raw, Count: >= 2 } && raw == typeof(uint);
}

/// <summary>
/// Turns the rows of an IDataView into the core's <see cref="AudioDataset"/>: a path row becomes a file entry (its
/// length read from the header), a samples row an in-memory clip named "row N"; a transcript or class goes with it.
/// Rows without usable audio or class (empty path, unreadable header, missing key) are left out and listed as skipped,
/// which the training loop reports as warnings.
/// </summary>
internal static class TrainingData
{
    /// <param name="data">The rows.</param>
    /// <param name="columns">What to read.</param>
    /// <param name="classes">Class names by key value - 1 (for a label column).</param>
    /// <param name="cancellationToken">Checked between rows.</param>
    /// <exception cref="InvalidOperationException">No row is usable.</exception>
    public static AudioDataset Read(IDataView data, TrainingColumns columns, IReadOnlyList<string>? classes, CancellationToken cancellationToken)
    {
        bool isPath = SchemaErrors.CheckAudio(columns.Trainer, data.Schema, columns.Audio, true, out DataViewSchema.Column audio);
        var active = new List<DataViewSchema.Column> { audio };
        DataViewSchema.Column? transcript = columns.Transcript == null ? null : data.Schema[columns.Transcript];
        DataViewSchema.Column? label = columns.Label == null ? null : data.Schema[columns.Label];
        active.AddRange(new[] { transcript, label }.OfType<DataViewSchema.Column>());
        var entries = new List<AudioEntry>();
        var skipped = new List<string>();
        using DataViewRowCursor cursor = data.GetRowCursor(active);
        ValueGetter<ReadOnlyMemory<char>>? path = isPath ? cursor.GetGetter<ReadOnlyMemory<char>>(audio) : null;
        ValueGetter<VBuffer<float>>? samples = isPath ? null : cursor.GetGetter<VBuffer<float>>(audio);
        ValueGetter<ReadOnlyMemory<char>>? text = transcript is { } t ? cursor.GetGetter<ReadOnlyMemory<char>>(t) : null;
        ValueGetter<uint>? key = label is { } l ? cursor.GetGetter<uint>(l) : null;
        ReadOnlyMemory<char> value = default;
        VBuffer<float> vector = default;
        uint keyValue = 0;
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            string row = $"{columns.Trainer}: row {cursor.Position}";
            string? className = null;
            if (key != null)
            {
                key(ref keyValue);
                if (keyValue == 0 || keyValue > classes!.Count)
                {
                    skipped.Add($"{row}: missing label in column '{columns.Label}'");
                    continue;
                }
                className = classes[(int)keyValue - 1];
            }
            string? transcriptText = null;
            if (text != null)
            {
                text(ref value);
                transcriptText = value.ToString();
            }
            AudioEntry? entry;
            if (path != null)
            {
                path(ref value);
                entry = FileEntry(value.ToString().Trim(), columns, row, transcriptText, skipped);
            }
            else
            {
                samples!(ref vector);
                entry = AudioEntry.InMemory($"row {cursor.Position}", new AudioClip(vector.DenseValues().ToArray(), 16000), transcriptText);
            }
            if (entry != null)
                entries.Add(entry with { Label = className });
        }
        if (entries.Count == 0)
            throw new InvalidOperationException($"{columns.Trainer}: no usable rows" + (skipped.Count > 0 ? $" ({skipped.Count} skipped, e.g. {skipped[0]})" : ""));
        return AudioDataset.FromEntries(entries, skipped);
    }

    private static AudioEntry? FileEntry(string relative, TrainingColumns columns, string row, string? transcript, List<string> skipped)
    {
        if (relative.Length == 0)
        {
            skipped.Add($"{row}: empty audio path in column '{columns.Audio}'");
            return null;
        }
        string file = columns.AudioFolder == null ? relative : Path.Combine(columns.AudioFolder, relative);
        try
        {
            (int rate, long count) = AudioFile.ReadInfo(file);
            return new AudioEntry(file, count, transcript, rate);
        }
        catch (InvalidDataException e)
        {
            skipped.Add($"{row}: {e.Message}");
            return null;
        }
    }

    /// <summary>The class names of a key column: its KeyValues annotation as text, else LABEL_0, LABEL_1, ...</summary>
    public static string[] ClassNames(DataViewSchema.Column label)
    {
        int count = (int)((KeyDataViewType)label.Type).Count;
        var names = Enumerable.Range(0, count).Select(i => $"LABEL_{i}").ToArray();
        if (label.Annotations.Schema.GetColumnOrNull("KeyValues") is { Type: VectorDataViewType { ItemType: TextDataViewType } })
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            label.Annotations.GetValue("KeyValues", ref values);
            int i = 0;
            foreach (ReadOnlyMemory<char> v in values.DenseValues().Take(count))
                names[i++] = v.ToString();
        }
        return names;
    }
}
