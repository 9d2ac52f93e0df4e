namespace Wav2Vec2.Audio;

/// <summary>
/// A recording at the model's rate with its normalisation decided but not applied: inference copies the window it
/// runs and normalises that copy, so an hour of audio is never held twice (samples and input values).
/// </summary>
internal sealed class ModelInput
{
    private readonly float[] samples;
    private readonly double mean, scale;
    private readonly bool normalize;

    private ModelInput(float[] samples, double mean, double scale, bool normalize) =>
        (this.samples, this.mean, this.scale, this.normalize) = (samples, mean, scale, normalize);

    /// <summary>Input values that are already final (no normalisation left to apply).</summary>
    public static ModelInput Ready(float[] inputValues) => new(inputValues, 0, 1, normalize: false);

    /// <summary><paramref name="samples"/> to be normalised with the given statistics as they are read.</summary>
    public static ModelInput Normalized(float[] samples, double mean, double scale) => new(samples, mean, scale, normalize: true);

    /// <summary>Samples in the recording.</summary>
    public int Length => samples.Length;

    /// <summary>Writes the input values of samples [start, start + destination.Length) to <paramref name="destination"/>.</summary>
    public void CopyTo(int start, Span<float> destination)
    {
        ReadOnlySpan<float> source = samples.AsSpan(start, destination.Length);
        if (!normalize)
        {
            source.CopyTo(destination);
            return;
        }
        for (int i = 0; i < destination.Length; i++)
            destination[i] = (float)((source[i] - mean) * scale);
    }
}
