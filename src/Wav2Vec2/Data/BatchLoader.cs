using System.Collections.Concurrent;
using Wav2Vec2.Kernels;
using Wav2Vec2.Audio;

namespace Wav2Vec2.Data;

/// <summary>A batch ready for the model: (batch, length) samples at the model's rate, normalised if configured.</summary>
/// <param name="Position">Index of the batch in its epoch's plan.</param>
/// <param name="Samples">Row-major (BatchSize, Length), padded with the preprocessor's padding value.</param>
/// <param name="BatchSize">Utterances in the batch.</param>
/// <param name="Length">Samples per utterance (with padding).</param>
/// <param name="SampleLengths">Valid samples of each utterance (all <paramref name="Length"/> when cropped).</param>
/// <param name="Entries">Dataset index of each utterance (skipped files are left out).</param>
/// <param name="Skipped">Files of this batch that could not be decoded (left out with a warning).</param>
internal sealed record LoadedBatch(int Position, float[] Samples, int BatchSize, int Length, int[] SampleLengths, int[] Entries,
    IReadOnlyList<string> Skipped);

/// <summary>
/// Decodes, resamples, crops (or pads, see <see cref="BatchingOptions.PadToLongest"/>) and normalises the batches of
/// one epoch on a background thread, a few batches ahead of the training step, in plan order. Crops are random but seeded by (seed, epoch, batch, item), so a resumed run loads
/// exactly the same audio. Files that fail to decode are left out of their batch and reported in
/// <see cref="LoadedBatch.Skipped"/>.
/// </summary>
internal sealed class BatchLoader : IDisposable
{
    private readonly BlockingCollection<LoadedBatch> _ready;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;

    /// <summary>Starts loading <paramref name="plans"/> from <paramref name="startPosition"/> on.</summary>
    public BatchLoader(AudioDataset dataset, IReadOnlyList<BatchPlan> plans, int startPosition, InputValuesPreprocessor preprocessor,
        ulong seed, int epoch, bool padToLongest = false, int prefetch = 4)
    {
        _ready = new BlockingCollection<LoadedBatch>(Math.Max(1, prefetch));
        _worker = Task.Run(() =>
        {
            try
            {
                for (int p = startPosition; p < plans.Count && !_stop.IsCancellationRequested; p++)
                    _ready.Add(Load(dataset, plans[p], p, preprocessor, seed, epoch, padToLongest), _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                _ready.CompleteAdding();
            }
        });
    }

    /// <summary>Batches in order; blocks until the next one is ready.</summary>
    public IEnumerable<LoadedBatch> Batches => _ready.GetConsumingEnumerable();

    /// <summary>Stops the worker.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _worker.Wait();
        }
        catch (AggregateException)
        {
        }
        _ready.Dispose();
        _stop.Dispose();
    }

    /// <summary>Loads one planned batch (also used directly by validation).</summary>
    public static LoadedBatch Load(AudioDataset dataset, BatchPlan plan, int position, InputValuesPreprocessor preprocessor,
        ulong seed, int epoch, bool padToLongest = false)
    {
        var clips = new List<float[]>();
        var entries = new List<int>();
        var skipped = new List<string>();
        foreach (int index in plan.Indices)
        {
            try
            {
                clips.Add(preprocessor.Resample(dataset.Entries[index].Read()).Samples);
                entries.Add(index);
            }
            catch (InvalidDataException e)
            {
                skipped.Add(e.Message);
            }
        }
        int length = clips.Count == 0 ? 0 : padToLongest ? clips.Max(c => c.Length) : Math.Min(plan.Length, clips.Min(c => c.Length));
        var samples = new float[clips.Count * length];
        var lengths = new int[clips.Count];
        for (int i = 0; i < clips.Count; i++)
        {
            // fairseq normalises the whole utterance, then crops.
            float[] clip = preprocessor.Normalize(clips[i], InputValuesPreprocessor.TrainingEpsilon);
            lengths[i] = Math.Min(clip.Length, length);
            ulong key = ((ulong)epoch << 40) ^ ((ulong)position << 16) ^ (ulong)i;
            int start = clip.Length > length ? (int)(CounterRandom.Bits(seed, key) % (ulong)(clip.Length - length + 1)) : 0;
            Span<float> row = samples.AsSpan(i * length, length);
            row[lengths[i]..].Fill(preprocessor.PaddingValue);
            clip.AsSpan(start, lengths[i]).CopyTo(row);
        }
        return new LoadedBatch(position, samples, clips.Count, length, lengths, [.. entries], skipped);
    }
}
