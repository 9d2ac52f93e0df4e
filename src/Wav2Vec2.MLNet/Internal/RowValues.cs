using Microsoft.ML;
using Microsoft.ML.Data;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>
/// The output values of the rows one cursor visits, computed only when a getter asks for them. With a batch size
/// above one (and a serial, unshuffled cursor) a second cursor over the input, reading only the audio column, runs
/// up to a batch ahead so that the mapper computes several rows in one call (one forward pass); its row ids are checked
/// against the main cursor's, and any mismatch falls back to one row at a time. Each row's audio is read once.
/// </summary>
internal sealed class RowValues : IDisposable
{
    private readonly BoundMapping _binding;
    private readonly DataViewRow _main;
    private readonly ValueGetter<DataViewRowId> _mainId;
    private IDataView? _source;
    private AudioReader? _direct;
    private DataViewRowCursor? _ahead;
    private AudioReader? _aheadReader;
    private ValueGetter<DataViewRowId>? _aheadId;
    private readonly Queue<(long Position, DataViewRowId Id, AudioItem Item)> _queue = new();
    private readonly Dictionary<long, object[]> _computed = [];
    private long _itemPosition = -1;
    private AudioItem _item;

    /// <param name="binding">The mapping.</param>
    /// <param name="main">The row whose values are wanted; its audio column must be active (it is read when
    /// <paramref name="source"/> is null or not repeatable).</param>
    /// <param name="source">The input data view to read ahead in, or null to read one row at a time.</param>
    public RowValues(BoundMapping binding, DataViewRow main, IDataView? source)
    {
        _binding = binding;
        _main = main;
        _mainId = main.GetIdGetter();
        _source = binding.Mapper.Input.BatchSize > 1 ? source : null;
    }

    /// <summary>The prepared audio of the main row at input position <paramref name="position"/>.</summary>
    public AudioItem Item(long position)
    {
        if (_itemPosition == position)
            return _item;
        _item = _source == null ? (_direct ??= new AudioReader(_binding, _main)).Read() : Ahead(position);
        _itemPosition = position;
        return _item;
    }

    /// <summary>The output values of the main row at <paramref name="position"/>; throws the row's error if it has no audio.</summary>
    public object[] Values(long position)
    {
        _binding.Mapper.Input.CancellationToken.ThrowIfCancellationRequested();
        if (_computed.TryGetValue(position, out object[]? values))
            return values;
        foreach (long old in _computed.Keys.Where(p => p < position).ToList())
            _computed.Remove(old);
        AudioItem item = Item(position);
        item.Require();
        // This row and the readable rows queued after it, in one call.
        var positions = new List<long> { position };
        var items = new List<AudioItem> { item };
        foreach (var (p, _, queued) in _queue)
            if (p > position && queued.Clip != null && items.Count < _binding.Mapper.Input.BatchSize)
            {
                positions.Add(p);
                items.Add(queued);
            }
        object[][] results = _binding.Mapper.Compute(items);
        for (int i = 0; i < positions.Count; i++)
            _computed[positions[i]] = results[i];
        return results[0];
    }

    // The queued item at `position`, reading up to a batch of rows ahead when the queue runs dry.
    private AudioItem Ahead(long position)
    {
        while (_queue.Count > 0 && _queue.Peek().Position < position)
            _queue.Dequeue();
        if (_queue.Count == 0 || _queue.Peek().Position != position)
        {
            _queue.Clear();
            if (!Fill(position))
                return FallBack();
        }
        DataViewRowId id = default;
        _mainId(ref id);
        var (_, aheadId, item) = _queue.Peek();
        return aheadId.Equals(id) ? item : FallBack();
    }

    // Moves the read-ahead cursor to `position` and queues a batch of rows from there.
    private bool Fill(long position)
    {
        if (_ahead == null)
        {
            _ahead = _source!.GetRowCursor(_binding.SourceColumns);
            _aheadReader = new AudioReader(_binding, _ahead);
            _aheadId = _ahead.GetIdGetter();
        }
        while (_ahead.Position < position)
            if (!_ahead.MoveNext())
                return false;
        if (_ahead.Position != position)
            return false;
        do
        {
            DataViewRowId id = default;
            _aheadId!(ref id);
            _queue.Enqueue((_ahead.Position, id, _aheadReader!.Read()));
        }
        while (_queue.Count < _binding.Mapper.Input.BatchSize && _ahead.MoveNext());
        return true;
    }

    // The input is not repeatable row for row: read the main row itself from now on.
    private AudioItem FallBack()
    {
        _queue.Clear();
        _ahead?.Dispose();
        _ahead = null;
        _source = null;
        return (_direct ??= new AudioReader(_binding, _main)).Read();
    }

    public void Dispose() => _ahead?.Dispose();
}
