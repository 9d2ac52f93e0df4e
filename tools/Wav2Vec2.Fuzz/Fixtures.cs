namespace Wav2Vec2.Fuzz;

/// <summary>The committed test fixtures the mutants start from (tests/Wav2Vec2.Tests/Fixtures).</summary>
/// <param name="Directory">The fixtures directory.</param>
public sealed record Fixtures(string Directory)
{
    /// <summary>A tiny CTC model stored as model.safetensors.</summary>
    public string SafeTensorsModel => Path.Combine(Directory, "models", "post_ln_group");
    /// <summary>A tiny CTC model stored as a torch.save pytorch_model.bin.</summary>
    public string TorchModel => Path.Combine(Directory, "models", "stable_layer");
    /// <summary>A 16-bit PCM WAV recording.</summary>
    public string PcmWav => Path.Combine(Directory, "flac", "speech16.wav");
    /// <summary>A 32-bit float WAV recording (ffmpeg's decode of an MP3 fixture).</summary>
    public string FloatWav => Path.Combine(Directory, "compressed", "cbr.mp3.ffmpeg.wav");
    /// <summary>One recording per format AudioFile reads.</summary>
    public string[] Recordings =>
    [
        PcmWav, FloatWav, Path.Combine(Directory, "flac", "stereo24.flac"), Path.Combine(Directory, "compressed", "cbr.mp3"),
        Path.Combine(Directory, "compressed", "stereo44.ogg"), Path.Combine(Directory, "compressed", "speech.opus"),
    ];
    /// <summary>A short recording.</summary>
    public string Audio => Path.Combine(Directory, "reference_audio.wav");
    /// <summary>A plain 3-gram ARPA model.</summary>
    public string PlainArpa => Path.Combine(Directory, "lm", "small.arpa");
    /// <summary>A gzip-compressed 3-gram ARPA model.</summary>
    public string GzipArpa => Path.Combine(Directory, "lm", "fortunes-3gram.arpa.gz");

    /// <summary>Copies a model directory into <paramref name="target"/>/model and returns that directory.</summary>
    public static string CopyModel(string source, string target)
    {
        string directory = System.IO.Directory.CreateDirectory(Path.Combine(target, "model")).FullName;
        foreach (string file in System.IO.Directory.GetFiles(source))
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        return directory;
    }

    /// <summary>The CLI call that loads a model, runs it and writes its logits.</summary>
    public Invocation Logits(string model, string work, string subject) =>
        new(["logits", "--model", model, "--audio", Audio, "--out", Path.Combine(work, "out.npy")], subject, Path.Combine(work, "out.npy"));
}
