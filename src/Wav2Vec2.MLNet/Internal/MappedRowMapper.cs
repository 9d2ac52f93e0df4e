using Microsoft.ML;
using Microsoft.ML.Data;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>
/// The single-row form of an audio transform (for PredictionEngine and transformer chains): each row is computed on its
/// own when a new column is read. A bad row fails even with <see cref="BadAudioHandling.Skip"/>: one row in, one out.
/// </summary>
internal sealed class MappedRowMapper(BoundMapping binding) : IRowToRowMapper
{
    public DataViewSchema InputSchema => binding.InputSchema;

    public DataViewSchema OutputSchema => binding.OutputSchema;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
        binding.Dependencies(dependingColumns, readAudio: false);

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        var active = new bool[binding.Mapper.Outputs.Count];
        foreach (DataViewSchema.Column column in activeColumns)
            if (binding.OutputIndex(column) is int output and >= 0)
                active[output] = true;
        return new Row(binding, input, active);
    }

    private sealed class Row(BoundMapping binding, DataViewRow input, bool[] active) : DataViewRow
    {
        private readonly RowValues _values = new(binding, input, null);

        public override DataViewSchema Schema => binding.OutputSchema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => binding.IsActive(column, active, input);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            binding.Getter<TValue>(column, active, input, _values);
    }
}
