namespace Wav2Vec2.Decoding;

/// <summary>What forced alignment does with transcript characters that are not in the model's vocabulary (after the
/// transcript is normalised as fine-tuning normalises it).</summary>
public enum UnknownCharacters
{
    /// <summary>Refuse the transcript, naming the characters.</summary>
    Error,

    /// <summary>Align them as the vocabulary's &lt;unk&gt; token (their text stays the transcript's).</summary>
    MapToUnknown,

    /// <summary>Leave them out of the alignment and of the words.</summary>
    Drop,
}

/// <summary>Settings of CTC forced alignment (<see cref="Inference.CtcAligner"/>) and of a beam-search decoder's timestamps.</summary>
/// <example><code>
/// var aligner = new CtcAligner(model, new AlignmentOptions { UnknownCharacters = UnknownCharacters.Drop });
/// </code></example>
public sealed record AlignmentOptions
{
    /// <summary>Characters outside the vocabulary (default: an error naming them).</summary>
    public UnknownCharacters UnknownCharacters { get; init; } = UnknownCharacters.Error;

    /// <summary>
    /// The largest frames x states (states: twice the transcript's tokens, plus one) aligned exactly in one piece: the
    /// backpointers take two bits each, so the default, 2^28, is 64 MB (about 5 minutes of speech). Longer recordings
    /// are aligned in windows (<see cref="WindowSeconds"/>) at a cost linear in their length.
    /// </summary>
    public long MaxExactStates { get; init; } = 1L << 28;

    /// <summary>Length of the windows of a long alignment (each keeps its path up to the last word that starts in its
    /// first three quarters, and the next one continues exactly from there).</summary>
    public double WindowSeconds { get; init; } = 60;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    internal void Validate()
    {
        if (MaxExactStates < 1)
            throw new ArgumentException($"MaxExactStates must be positive, got {MaxExactStates}");
        if (!(WindowSeconds >= 1) || double.IsInfinity(WindowSeconds))
            throw new ArgumentException($"WindowSeconds must be at least 1, got {WindowSeconds}");
    }

    /// <summary>The window in frames of <paramref name="secondsPerFrame"/>.</summary>
    internal int WindowFrames(double secondsPerFrame) => (int)Math.Max(16, WindowSeconds / secondsPerFrame);
}
