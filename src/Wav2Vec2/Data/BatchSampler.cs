using Wav2Vec2.Tensors;

namespace Wav2Vec2.Data;

/// <summary>fairseq's batching settings for raw audio (pre-training crops, fine-tuning pads).</summary>
public sealed record BatchingOptions
{
    /// <summary>
    /// Keep every recording whole and pad a batch to its longest item (fine-tuning, where labels cover the whole
    /// utterance) instead of cropping it to its shortest (pre-training).
    /// </summary>
    public bool PadToLongest { get; init; }

    /// <summary>Longer recordings are randomly cropped to this many samples (fairseq max_sample_size).</summary>
    public int MaxSampleSize { get; init; } = 250_000;

    /// <summary>Shorter recordings are skipped (fairseq min_sample_size).</summary>
    public int MinSampleSize { get; init; } = 32_000;

    /// <summary>Upper bound of batch size x longest item (fairseq max_tokens).</summary>
    public int MaxTokens { get; init; } = 1_400_000;
}

/// <summary>One batch: which dataset entries, and their common length (the shortest when cropping, else the longest).</summary>
internal sealed record BatchPlan(int[] Indices, int Length);

/// <summary>
/// Groups recordings into batches the way fairseq does for raw audio: sort by (cropped) length, longest first, with
/// random tie-breaking; fill each batch while count x longest &lt;= max_tokens; every batch is cropped to its shortest
/// item (or padded to its longest); the batch order is shuffled per epoch from the seed. Deterministic for a given seed
/// and epoch.
/// </summary>
internal static class BatchSampler
{
    /// <summary>The batches of <paramref name="epoch"/> (1-based) in training order.</summary>
    public static IReadOnlyList<BatchPlan> Plan(IReadOnlyList<AudioEntry> entries, BatchingOptions options, ulong seed, int epoch)
    {
        var random = new RandomSource(seed * 1_000_003UL + (ulong)epoch);
        var usable = Enumerable.Range(0, entries.Count).Where(i => entries[i].Samples >= options.MinSampleSize)
            .Select(i => (Index: i, Length: (int)Math.Min(entries[i].Samples, options.MaxSampleSize), Tie: random.NextUniform()))
            .OrderByDescending(e => e.Length).ThenBy(e => e.Tie).ToList();
        var batches = new List<BatchPlan>();
        var current = new List<(int Index, int Length, float Tie)>();
        foreach (var entry in usable)
        {
            int longest = current.Count > 0 ? current[0].Length : entry.Length;
            if (current.Count > 0 && (long)(current.Count + 1) * longest > options.MaxTokens)
            {
                batches.Add(Batch(current, options));
                current.Clear();
            }
            current.Add(entry);
        }
        if (current.Count > 0)
            batches.Add(Batch(current, options));
        for (int i = batches.Count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (batches[i], batches[j]) = (batches[j], batches[i]);
        }
        return batches;
    }

    // Items are sorted longest first: the common length is the last item's when cropping, the first's when padding.
    private static BatchPlan Batch(List<(int Index, int Length, float Tie)> items, BatchingOptions options) =>
        new(items.Select(e => e.Index).ToArray(), options.PadToLongest ? items[0].Length : items[^1].Length);
}
