using Wav2Vec2.Audio;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>What the two model transforms share: clips resampled to the model's rate, too-short clips refused per row,
/// the engine's thread count scoped to each computation, and a count of clips run through the model.</summary>
internal abstract class ModelMapper : AudioMapper
{
    private readonly Wav2Vec2Model _backbone;
    private readonly int? _threadCount;
    private long _clipsComputed;

    /// <param name="input">The shared input settings; their precision is applied to the whole <paramref name="model"/>.</param>
    /// <param name="model">The model the transform runs (its head too, as the CLI's --precision does).</param>
    /// <param name="backbone">The model's backbone (the same object for a feature transform).</param>
    /// <param name="threadCount">The threads of each computation, or null.</param>
    protected ModelMapper(AudioInputSettings input, Nn.Module model, Wav2Vec2Model backbone, int? threadCount) : base(input)
    {
        if (input.Precision is Nn.Precision precision)
            model.UsePrecision(precision);
        _backbone = backbone;
        _threadCount = threadCount;
        // The shortest input that gives one frame: the conv encoder's receptive field.
        for (MinimumSamples = 1; backbone.FrameCount(MinimumSamples) == 0; MinimumSamples++)
        {
        }
    }

    public int MinimumSamples { get; }

    /// <summary>Clips run through the model so far (for the one-pass-per-clip guarantee).</summary>
    public long ClipsComputed => Interlocked.Read(ref _clipsComputed);

    public override bool AcceptsSamples => true;

    public override AudioClip Prepare(AudioClip clip, out string? error)
    {
        AudioClip resampled = _backbone.Preprocessor.Resample(clip);
        error = resampled.Samples.Length < MinimumSamples
            ? $"{resampled.Samples.Length} samples at {resampled.SampleRate} Hz are too short for the model (it needs at least {MinimumSamples})"
            : null;
        return resampled;
    }

    public sealed override object[][] Compute(IReadOnlyList<AudioItem> items)
    {
        using IDisposable? threads = _threadCount is int count ? Threading.Parallelism.Scope(count) : null;
        object[][] values = ComputeWithModel(items);
        Interlocked.Add(ref _clipsComputed, items.Count);
        return values;
    }

    protected abstract object[][] ComputeWithModel(IReadOnlyList<AudioItem> items);

    /// <summary>The prepared clips of <paramref name="items"/>.</summary>
    protected static AudioClip[] Clips(IReadOnlyList<AudioItem> items) => items.Select(item => item.Require()).ToArray();
}
