using System.Collections.Concurrent;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>
/// The lazy result of an audio transform: the input's rows with the new columns. Nothing is computed until a cursor's
/// getter of a new column is called; rows with bad audio fail when read or, with <see cref="BadAudioHandling.Skip"/>,
/// are left out by every cursor (whatever columns it reads, so that all cursors see the same rows).
/// </summary>
internal sealed class MappedDataView(IDataView input, BoundMapping binding) : IDataView
{
    private readonly ConcurrentDictionary<DataViewRowId, byte> _warned = new();

    private bool Skips => binding.Mapper.Input.BadAudio == BadAudioHandling.Skip;

    public DataViewSchema Schema => binding.OutputSchema;

    public bool CanShuffle => input.CanShuffle;

    public long? GetRowCount() => Skips ? null : input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = columnsNeeded.ToList();
        bool[] outputs = ActiveOutputs(active);
        bool values = Skips || outputs.Any(a => a);
        DataViewRowCursor cursor = input.GetRowCursor(binding.Dependencies(active, values), rand);
        // Reading ahead needs a second cursor that visits the same rows in the same order: serial and unshuffled only.
        return new MappedCursor(binding, cursor, outputs, values, rand == null ? input : null, _warned);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var active = columnsNeeded.ToList();
        if (n <= 1)
            return [GetRowCursor(active, rand)];
        bool[] outputs = ActiveOutputs(active);
        bool values = Skips || outputs.Any(a => a);
        // Parallel cursors each compute their own rows, one at a time, with the one shared model.
        return input.GetRowCursorSet(binding.Dependencies(active, values), n, rand)
            .Select(cursor => (DataViewRowCursor)new MappedCursor(binding, cursor, outputs, values, null, _warned)).ToArray();
    }

    private bool[] ActiveOutputs(IEnumerable<DataViewSchema.Column> active)
    {
        var outputs = new bool[binding.Mapper.Outputs.Count];
        foreach (DataViewSchema.Column column in active)
            if (binding.OutputIndex(column) is int index and >= 0)
                outputs[index] = true;
        return outputs;
    }
}
