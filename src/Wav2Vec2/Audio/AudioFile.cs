namespace Wav2Vec2.Audio;

/// <summary>
/// The one way to read a recording: WAV (PCM 8/16/24/32-bit, float 32/64, WAVE_FORMAT_EXTENSIBLE) or FLAC, recognised
/// by content (by extension when the content is neither), any sample rate, channels averaged to mono. Unreadable, corrupt or empty files fail with an
/// <see cref="InvalidDataException"/> whose message starts with the path.
/// </summary>
/// <example><code>
/// AudioClip clip = AudioFile.Read("speech.flac");     // samples in [-1, 1] at the file's own rate
/// float[] input = preprocessor.Prepare(clip);          // the model's input values (InputValuesPreprocessor)
/// </code></example>
public static class AudioFile
{
    /// <summary>Decodes a WAV or FLAC file to mono float samples at its own rate.</summary>
    public static AudioClip Read(string path) => Decode(Access(path, () => File.ReadAllBytes(path)), path);

    /// <summary>Decodes WAV or FLAC bytes; <paramref name="name"/> is used in error messages.</summary>
    public static AudioClip Decode(byte[] data, string name = "audio") =>
        IsFlac(data, name) ? FlacDecoder.Decode(data, name) : WavReader.Read(data, name);

    /// <summary>
    /// Sample rate and samples per channel from the file's header alone (STREAMINFO for FLAC, the chunk walk for WAV),
    /// without decoding the audio.
    /// </summary>
    public static (int SampleRate, long Samples) ReadInfo(string path)
    {
        (byte[] head, long fileLength) = Access(path, () =>
        {
            using FileStream stream = File.OpenRead(path);
            var bytes = new byte[Math.Min(stream.Length, WavReader.InfoHeadLength)];
            stream.ReadExactly(bytes);
            return (bytes, stream.Length);
        });
        if (!IsFlac(head, path))
            return WavReader.ReadInfo(head, fileLength, path);
        FlacStreamInfo info = FlacDecoder.ReadStreamInfo(head, path);
        return (info.SampleRate, info.TotalSamples);
    }

    // By content; a file that is neither names its format by extension, so that the error says what it is not.
    private static bool IsFlac(ReadOnlySpan<byte> head, string name) => head.StartsWith("fLaC"u8)
        || (!head.StartsWith("RIFF"u8) && name.EndsWith(".flac", StringComparison.OrdinalIgnoreCase));

    // File-system failures become the same one-line InvalidDataException as a corrupt file.
    private static T Access<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read ({e.Message})");
        }
    }
}
