using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Inference;

/// <summary>
/// Frame-exact chunked inference. Output frame f of the conv encoder reads samples [f R, f R + W) (R = product of conv
/// strides, 320; W = receptive field, 400 for BASE). The recording's frames are split into consecutive "cores"; each
/// core is computed from a window that starts R-aligned, <see cref="ChunkingOptions.ContextSeconds"/> before the core,
/// and ends that much after its last frame's receptive field. Only the core's frames are kept, so the chunks stitch
/// into exactly the frames of an unchunked pass: identical from the conv encoder, and equal up to the attention's
/// limited context in the Transformer (every kept frame sees at least ContextSeconds of audio on both sides).
/// Group-norm feature encoders (BASE) normalise each channel over the window, so their chunks see window statistics,
/// as in Hugging Face's chunked pipeline. Input normalisation (do_normalize) takes its statistics from the whole recording
/// and is applied to each window as it is copied. Memory is that of one window beside the recording and the output.
/// </summary>
internal static class ChunkedInference
{
    /// <summary>
    /// Runs <paramref name="forward"/> (normalised (1, samples) -> (1, frames, <paramref name="width"/>)) over
    /// <paramref name="input"/> in evaluation mode and returns (frames, width).
    /// </summary>
    public static Tensor Run(Wav2Vec2Model model, ModelInput input, ChunkingOptions? options, Func<Tensor, Tensor> forward,
        int width, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var result = new Tensor([model.FrameCount(input.Length), width], clear: false, pooled: false);
        int written = 0;
        Stream(model, input, options, forward, progress, cancellationToken, rows =>
        {
            rows.CopyTo(result.Span[written..]);
            written += rows.Length;
        });
        return result;
    }

    /// <summary>
    /// As <see cref="Run"/>, but hands each chunk's frames (rows of width values, in order) to <paramref name="rows"/>
    /// instead of keeping them: memory is that of one window whatever the recording's length.
    /// </summary>
    public static void Stream(Wav2Vec2Model model, ModelInput input, ChunkingOptions? options, Func<Tensor, Tensor> forward,
        IProgress<double>? progress, CancellationToken cancellationToken, Action<ReadOnlySpan<float>> rows)
    {
        options ??= new ChunkingOptions();
        if (options.ChunkSeconds < 0 || options.ContextSeconds < 0)
            throw new ArgumentOutOfRangeException(nameof(options), "chunk and context lengths must not be negative");
        int totalFrames = model.FrameCount(input.Length);
        if (totalFrames <= 0)
            throw new ArgumentException($"the recording is too short ({input.Length} samples) to produce a frame");
        int rate = model.Preprocessor.SamplingRate, stride = model.Config.InputsToLogitsRatio;
        int receptive = ReceptiveField(model.Config);
        int chunkSamples = (int)Math.Min(int.MaxValue, options.ChunkSeconds * rate);
        int context = (int)(options.ContextSeconds * rate) / stride * stride;
        int coreFrames = (chunkSamples - 2 * context - receptive) / stride + 1;
        if (options.ChunkSeconds == 0 || input.Length <= chunkSamples)
            coreFrames = totalFrames;
        else if (coreFrames < 1)
            throw new ArgumentException($"chunks of {options.ChunkSeconds} s leave no room beside {options.ContextSeconds} s of context on each side");

        // Every window has the same length where the recording allows (the first and last are shifted inward rather
        // than cut), so each chunk reuses the pooled buffers of the previous one.
        int windowLength = (coreFrames - 1) * stride + receptive + 2 * context;
        using var _ = Tape.NoGrad();
        for (int coreStart = 0; coreStart < totalFrames; coreStart += coreFrames)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int coreEnd = Math.Min(totalFrames, coreStart + coreFrames);
            int windowStart = Math.Clamp(coreStart * stride - context, 0, Math.Max(0, input.Length - windowLength)) / stride * stride;
            int needed = (coreEnd - 1) * stride + receptive + context;
            int windowEnd = (int)Math.Min(input.Length, Math.Max((long)windowStart + windowLength, needed));
            using (new TensorArena())
            {
                var values = new Tensor([1, windowEnd - windowStart], clear: false);   // pooled: no garbage per window
                input.CopyTo(windowStart, values.Span);
                Tensor frames = forward(values);                                        // (1, window frames, width)
                int offset = windowStart / stride, width = frames.Size(-1);
                rows(frames.Span.Slice((coreStart - offset) * width, (coreEnd - coreStart) * width));
            }
            progress?.Report((double)coreEnd / totalFrames);
        }
    }

    /// <summary>
    /// Runs <paramref name="forward"/> (normalised (B, samples) and the valid samples of each row, null when all rows
    /// are full, -> (B, frames, <paramref name="width"/>)) over several normalised recordings and returns (frames,
    /// width) for each. Recordings that fit one window go through in batches of up to <paramref name="batchSize"/>
    /// consecutive recordings (of equal length for group-norm encoders, which have no padding mask; padded otherwise);
    /// longer ones go through <see cref="Run"/> one at a time.
    /// </summary>
    public static Tensor[] RunBatch(Wav2Vec2Model model, IReadOnlyList<ModelInput> inputs, int batchSize,
        ChunkingOptions? options, Func<Tensor, int[]?, Tensor> forward, int width, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        options ??= new ChunkingOptions();
        long chunkSamples = options.ChunkSeconds == 0 ? long.MaxValue : (long)(options.ChunkSeconds * model.Preprocessor.SamplingRate);
        bool padding = model.Config.FeatExtractNorm == FeatureEncoderNorm.Layer;
        var results = new Tensor[inputs.Count];
        var group = new List<int>();
        for (int i = 0; i <= inputs.Count; i++)
        {
            bool joins = i < inputs.Count && inputs[i].Length <= chunkSamples && group.Count < batchSize
                && (padding || group.Count == 0 || inputs[group[0]].Length == inputs[i].Length);
            if (!joins && group.Count > 0)
            {
                RunGroup(model, inputs, group, forward, width, results, cancellationToken);
                group.Clear();
            }
            if (i == inputs.Count)
                break;
            if (inputs[i].Length > chunkSamples)
                results[i] = Run(model, inputs[i], options, values => forward(values, null), width, null, cancellationToken);
            else
                group.Add(i);
        }
        return results;
    }

    // One padded forward pass over the recordings `group` (each fits one window).
    private static void RunGroup(Wav2Vec2Model model, IReadOnlyList<ModelInput> inputs, List<int> group,
        Func<Tensor, int[]?, Tensor> forward, int width, Tensor[] results, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        int[] lengths = group.Select(i => inputs[i].Length).ToArray();
        int longest = lengths.Max();
        foreach (int length in lengths)
            if (model.FrameCount(length) <= 0)
                throw new ArgumentException($"the recording is too short ({length} samples) to produce a frame");
        using var _ = Tape.NoGrad();
        using var arena = new TensorArena();
        var values = new Tensor([group.Count, longest], clear: false);
        for (int b = 0; b < group.Count; b++)
        {
            Span<float> row = values.Span.Slice(b * longest, longest);
            inputs[group[b]].CopyTo(0, row[..lengths[b]]);
            row[lengths[b]..].Fill(model.Preprocessor.PaddingValue);
        }
        Tensor output = forward(values, lengths.All(l => l == longest) ? null : lengths);   // (B, frames, width)
        int frames = output.Size(1);
        for (int b = 0; b < group.Count; b++)
        {
            int valid = model.FrameCount(lengths[b]);
            var result = new Tensor([valid, width], clear: false, pooled: false);
            output.Span.Slice(b * frames * width, valid * width).CopyTo(result.Span);
            results[group[b]] = result;
        }
    }

    /// <summary>Samples read by one output frame of the conv encoder (400 for BASE).</summary>
    public static int ReceptiveField(Wav2Vec2Config config)
    {
        int field = 1;
        for (int i = config.ConvKernel.Length - 1; i >= 0; i--)
            field = (field - 1) * config.ConvStride[i] + config.ConvKernel[i];
        return field;
    }
}
