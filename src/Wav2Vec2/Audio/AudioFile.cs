using System.Buffers;
using NAudio.Wave;

namespace Wav2Vec2.Audio;

/// <summary>
/// The one way to read a recording: WAV and AIFF (NAudio), FLAC (our decoder), MP3 (NLayer, gapless), Ogg Vorbis
/// (NVorbis) and Ogg Opus (Concentus), recognised by content, any sample rate, channels averaged to mono; or any NAudio
/// <see cref="ISampleProvider"/> / <see cref="WaveStream"/> (files, mixers, captures) without a temporary file.
/// Unreadable, corrupt, truncated, empty or non-finite audio fails with an <see cref="InvalidDataException"/> whose
/// message starts with the file's name.
/// </summary>
/// <example><code>
/// AudioClip clip = AudioFile.Read("clip.mp3");         // samples in [-1, 1] at the file's own rate
/// AudioClip live = AudioFile.Read(mixer, "mixer");     // an NAudio ISampleProvider
/// float[] input = preprocessor.Prepare(clip);          // the model's input values (InputValuesPreprocessor)
/// </code></example>
public static class AudioFile
{
    /// <summary>The lowest and highest sample rates accepted (a header saying 2 Hz is damage, not audio).</summary>
    private const int MinRate = 1000, MaxRate = 768_000;

    /// <summary>Decodes an audio file to mono float samples at its own rate.</summary>
    public static AudioClip Read(string path) => Access(path, () =>
    {
        using FileStream stream = File.OpenRead(path);
        return Decode(stream, path);
    });

    /// <summary>Decodes audio bytes; <paramref name="name"/> is used in error messages.</summary>
    public static AudioClip Decode(byte[] data, string name = "audio") => Decode(new MemoryStream(data, writable: false), name);

    /// <summary>
    /// Decodes an audio stream from its beginning (a stream that cannot seek is buffered first); <paramref name="name"/>
    /// is used in error messages.
    /// </summary>
    public static AudioClip Decode(Stream stream, string name = "audio")
    {
        stream = Seekable(stream);
        AudioFormat format = Detect(stream, name);
        return Decoding(format, name, () => format == AudioFormat.Flac ? Checked(FlacDecoder.Decode(ReadAll(stream), name), name)
            : Read(Open(stream, name, format), name));
    }

    /// <summary>Reads <paramref name="provider"/> to its end and averages its channels.</summary>
    /// <exception cref="InvalidDataException">The format is not audio, nothing was read, or a sample is not finite.</exception>
    public static AudioClip Read(ISampleProvider provider, string name = "audio")
    {
        ArgumentNullException.ThrowIfNull(provider);
        WaveFormat format = provider.WaveFormat;
        if (format.Channels <= 0 || format.SampleRate is < MinRate or > MaxRate)
            throw new InvalidDataException($"{name}: {format.Channels} channels at {format.SampleRate} Hz is not audio that can be read " +
                $"({MinRate}-{MaxRate} Hz, one channel or more)");
        int channels = format.Channels;
        long promised = provider is IKnownLength known ? known.Frames : -1;
        if (promised > Array.MaxLength)
            throw new InvalidDataException($"{name}: holds {promised} samples per channel, more than one array can ({Array.MaxLength})");
        var mono = new float[promised >= 0 ? promised : 1 << 16];
        int count = 0;
        float[] block = ArrayPool<float>.Shared.Rent(4096 * channels);
        try
        {
            int blockLength = block.Length - block.Length % channels;
            for (int got; (got = provider.Read(block.AsSpan(0, blockLength))) > 0;)
            {
                int frames = got / channels;
                if (count + frames > mono.Length)
                {
                    if (mono.Length == Array.MaxLength)
                        throw new InvalidDataException($"{name}: longer than one array can hold ({Array.MaxLength} samples)");
                    Array.Resize(ref mono, (int)Math.Min(Array.MaxLength, Math.Max(count + frames, 2L * mono.Length)));
                }
                Mix(block.AsSpan(0, frames * channels), channels, mono.AsSpan(count, frames));
                count += frames;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(block);
        }
        if (count == 0)
            throw new InvalidDataException($"{name}: contains no samples");
        if (promised >= 0 && count < promised)
            throw new InvalidDataException($"{name}: corrupt or truncated audio (decoded {count} of the {promised} samples its header declares)");
        if (count < mono.Length)
            Array.Resize(ref mono, count);
        return Checked(new AudioClip(mono, format.SampleRate), name);
    }

    /// <summary>Reads an NAudio <see cref="WaveStream"/> (WAV, AIFF or any reader NAudio has) from its position to its end.</summary>
    public static AudioClip Read(WaveStream stream, string name = "audio")
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream.ToSampleProvider(), name);
    }

    /// <summary>
    /// Sample rate and samples per channel from the file's headers (WAV/AIFF/FLAC headers, MP3 frame headers, the last
    /// Ogg page), without decoding the audio.
    /// </summary>
    public static (int SampleRate, long Samples) ReadInfo(string path) => Access(path, () =>
    {
        using FileStream stream = File.OpenRead(path);
        AudioFormat format = Detect(stream, path);
        (int rate, long samples) = Decoding(format, path, () => format switch
        {
            AudioFormat.Wav or AudioFormat.Aiff => WaveAudio.ReadInfo(stream, path, format == AudioFormat.Aiff),
            AudioFormat.Flac => FlacInfo(stream, path),
            AudioFormat.Mp3 => Mp3Audio.ReadInfo(stream, path),
            _ => OggAudio.ReadInfo(stream, path),
        });
        return rate is >= MinRate and <= MaxRate ? (rate, samples)
            : throw new InvalidDataException($"{path}: sample rate {rate} Hz is not an audio rate ({MinRate}-{MaxRate} Hz are read)");
    });

    private enum AudioFormat { Wav, Aiff, Flac, Mp3, Ogg }

    private static ISampleProvider Open(Stream stream, string name, AudioFormat format) => format switch
    {
        AudioFormat.Wav or AudioFormat.Aiff => WaveAudio.Open(stream, name, format == AudioFormat.Aiff),
        AudioFormat.Mp3 => Mp3Audio.Open(stream, name),
        _ => OggAudio.Open(stream, name),
    };

    // By content. Formats that cannot be read are named, so that the message says what the file is.
    private static AudioFormat Detect(Stream stream, string name)
    {
        Span<byte> head = stackalloc byte[4096];
        stream.Position = 0;
        head = head[..stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
        stream.Position = 0;
        if (head.Length == 0)
            throw new InvalidDataException($"{name}: empty file");
        if (head.Length >= 12 && (head.StartsWith("RIFF"u8) || head.StartsWith("RF64"u8)) && head[8..12].SequenceEqual("WAVE"u8))
            return AudioFormat.Wav;
        if (head.Length >= 12 && head.StartsWith("FORM"u8) && (head[8..12].SequenceEqual("AIFF"u8) || head[8..12].SequenceEqual("AIFC"u8)))
            return AudioFormat.Aiff;
        if (head.StartsWith("fLaC"u8))
            return AudioFormat.Flac;
        if (head.StartsWith("OggS"u8))
            return AudioFormat.Ogg;
        if (Mp3Audio.IsMp3(head))
            return AudioFormat.Mp3;
        string? known = head.Length >= 8 && head[4..8].SequenceEqual("ftyp"u8) ? "an MP4/M4A container (AAC)"
            : head.StartsWith(new byte[] { 0x1A, 0x45, 0xDF, 0xA3 }) ? "a Matroska/WebM container"
            : head.StartsWith("RIFF"u8) ? "a RIFF file that is not WAVE"
            : null;
        string extension = Path.GetExtension(name).TrimStart('.').ToUpperInvariant();
        string what = known ?? (extension is "WAV" or "AIFF" or "FLAC" or "MP3" or "OGG" or "OPUS" ? $"not a {extension} file" : "not an audio file");
        throw new InvalidDataException($"{name}: {what}; WAV, AIFF, FLAC, MP3, Ogg Vorbis and Ogg Opus are read");
    }

    // Decoder libraries throw whatever their internals meet on damaged input (index out of range, argument errors):
    // each becomes the one-line error that names the file.
    private static T Decoding<T>(AudioFormat format, string name, Func<T> decode)
    {
        try
        {
            return decode();
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{name}: truncated {format.ToString().ToUpperInvariant()} file");
        }
        catch (Exception e) when (e is not (InvalidDataException or OperationCanceledException or OutOfMemoryException or IOException))
        {
            throw new InvalidDataException($"{name}: corrupt {format.ToString().ToUpperInvariant()} file ({e.GetType().Name}: {e.Message})");
        }
    }

    private static (int SampleRate, long Samples) FlacInfo(Stream stream, string name)
    {
        var head = new byte[Math.Min(stream.Length, FlacDecoder.StreamInfoEnd)];
        stream.ReadExactly(head);
        FlacStreamInfo info = FlacDecoder.ReadStreamInfo(head, name);
        return (info.SampleRate, info.TotalSamples);
    }

    private static void Mix(ReadOnlySpan<float> interleaved, int channels, Span<float> mono)
    {
        if (channels == 1)
        {
            interleaved.CopyTo(mono);
            return;
        }
        float scale = 1f / channels;
        for (int i = 0; i < mono.Length; i++)
        {
            float sum = 0;
            for (int c = 0; c < channels; c++)
                sum += interleaved[i * channels + c];
            mono[i] = sum * scale;
        }
    }

    // Non-finite samples (a damaged float file) would turn every feature into NaN downstream; the sum is the quick test.
    private static AudioClip Checked(AudioClip clip, string name)
    {
        if (!float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum(clip.Samples)))
        {
            int bad = Array.FindIndex(clip.Samples, v => !float.IsFinite(v));
            if (bad >= 0)
                throw new InvalidDataException($"{name}: sample {bad} is {clip.Samples[bad]}, not a finite number: the file is damaged");
        }
        if (clip.SampleRate is < MinRate or > MaxRate)
            throw new InvalidDataException($"{name}: sample rate {clip.SampleRate} Hz is not an audio rate ({MinRate}-{MaxRate} Hz are read)");
        return clip;
    }

    private static Stream Seekable(Stream stream)
    {
        if (stream.CanSeek)
            return stream;
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        return copy;
    }

    private static byte[] ReadAll(Stream stream)
    {
        var data = new byte[stream.Length];
        stream.Position = 0;
        stream.ReadExactly(data);
        return data;
    }

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
