using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.Audio;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>A row's prepared clip (and text, for a transform that reads one), or the reason it has none (a message naming
/// the transform, the row and the file).</summary>
internal readonly record struct AudioItem(AudioClip? Clip, string? Error, string? Text = null)
{
    public AudioClip Require() => Clip ?? throw new InvalidDataException(Error);
}

/// <summary>Reads the audio column of the current row of one cursor or row: a file path (any format AudioFile reads) or 16 kHz samples.</summary>
internal sealed class AudioReader
{
    private readonly BoundMapping _binding;
    private readonly DataViewRow _row;
    private readonly ValueGetter<ReadOnlyMemory<char>>? _path;
    private readonly ValueGetter<VBuffer<float>>? _samples;
    private readonly ValueGetter<ReadOnlyMemory<char>>? _companion;
    private readonly ValueGetter<ReadOnlyMemory<char>>? _sourcePath;
    private ReadOnlyMemory<char> _text, _companionText, _sourcePathText;
    private VBuffer<float> _vector;

    public AudioReader(BoundMapping binding, DataViewRow row)
    {
        _binding = binding;
        _row = row;
        DataViewSchema.Column column = row.Schema[binding.InputColumn.Index];
        if (binding.IsPath)
            _path = row.GetGetter<ReadOnlyMemory<char>>(column);
        else
            _samples = row.GetGetter<VBuffer<float>>(column);
        if (binding.TextColumn is DataViewSchema.Column text)
            _companion = row.GetGetter<ReadOnlyMemory<char>>(row.Schema[text.Index]);
        if (binding.SourcePathColumn is DataViewSchema.Column source && row.IsColumnActive(row.Schema[source.Index]))
            _sourcePath = row.GetGetter<ReadOnlyMemory<char>>(row.Schema[source.Index]);
    }

    /// <summary>The current row's clip, prepared by the mapper, or its error.</summary>
    public AudioItem Read()
    {
        AudioMapper mapper = _binding.Mapper;
        string where = $"{mapper.Name}: row {_row.Position}";
        AudioClip clip;
        if (_path != null)
        {
            _path(ref _text);
            string path = _text.ToString().Trim();
            if (path.Length == 0)
                return new AudioItem(null, $"{where}: empty audio path in column '{_binding.InputColumn.Name}'");
            try
            {
                clip = AudioFile.Read(mapper.Input.Resolve(path));
            }
            catch (InvalidDataException e)
            {
                return new AudioItem(null, $"{where}: {e.Message}");
            }
            where = $"{where}: {mapper.Input.Resolve(path)}";
        }
        else
        {
            _samples!(ref _vector);
            var samples = new float[_vector.Length];
            _vector.CopyTo(samples);
            clip = new AudioClip(samples, 16000);
            if (_sourcePath != null)
            {
                _sourcePath(ref _sourcePathText);
                where = $"{where}: {_sourcePathText.ToString().Trim()}";
            }
        }
        AudioClip prepared = mapper.Prepare(clip, out string? error);
        string? text = null;
        if (error == null && _companion != null)
        {
            _companion(ref _companionText);
            text = _companionText.ToString();
            error = mapper.CheckText(prepared, text);
        }
        return error == null ? new AudioItem(prepared, null, text) : new AudioItem(null, $"{where}: {error}");
    }
}
