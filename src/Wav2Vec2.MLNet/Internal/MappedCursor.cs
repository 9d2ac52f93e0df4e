using System.Collections.Concurrent;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>A cursor over <see cref="MappedDataView"/>: input columns pass through, new columns are computed on demand.</summary>
internal sealed class MappedCursor : DataViewRowCursor
{
    private readonly BoundMapping _binding;
    private readonly DataViewRowCursor _input;
    private readonly bool[] _activeOutputs;
    private readonly RowValues? _values;
    private readonly bool _skip;
    private readonly ConcurrentDictionary<DataViewRowId, byte> _warned;
    private readonly ValueGetter<DataViewRowId> _rowId;
    private long _position = -1, _skipped, _newlySkipped;

    // `warned`: the rows of this data view already reported as skipped; a read-ahead cursor downstream, or a second
    // pass, visits them again, and each is named once.
    public MappedCursor(BoundMapping binding, DataViewRowCursor input, bool[] activeOutputs, bool values, IDataView? source,
        ConcurrentDictionary<DataViewRowId, byte> warned)
    {
        _warned = warned;
        _rowId = input.GetIdGetter();
        _binding = binding;
        _input = input;
        _activeOutputs = activeOutputs;
        _skip = binding.Mapper.Input.BadAudio == BadAudioHandling.Skip;
        _values = values ? new RowValues(binding, input, source) : null;
    }

    public override DataViewSchema Schema => _binding.OutputSchema;

    public override long Position => _position;

    public override long Batch => _input.Batch;

    public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => _binding.IsActive(column, _activeOutputs, _input);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
        _binding.Getter<TValue>(column, _activeOutputs, _input, _values!);

    private DataViewRowId RowId()
    {
        DataViewRowId id = default;
        _rowId(ref id);
        return id;
    }

    public override bool MoveNext()
    {
        while (_input.MoveNext())
        {
            _binding.Mapper.Input.CancellationToken.ThrowIfCancellationRequested();
            if (_skip && _values!.Item(_input.Position) is { Error: string error })
            {
                _skipped++;
                if (_warned.TryAdd(RowId(), 0))
                {
                    _newlySkipped++;
                    MLNetInterop.Warning(_binding.Mapper.Input.Environment, _binding.Mapper.Name, $"skipped {error}");
                }
                continue;
            }
            _position++;
            return true;
        }
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_newlySkipped > 0)
                MLNetInterop.Info(_binding.Mapper.Input.Environment, _binding.Mapper.Name,
                    $"skipped {_skipped} of {_skipped + _position + 1} rows with unusable audio");
            _values?.Dispose();
            _input.Dispose();
        }
        base.Dispose(disposing);
    }
}
