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

    /// <summary>Upper bound of recordings per batch (fairseq batch_size / max_sentences; null: none).</summary>
    public int? MaxSentences { get; init; }

    /// <summary>Batches hold fewer recordings than this or a multiple of it (fairseq required_batch_size_multiple).</summary>
    public int RequiredBatchSizeMultiple { get; init; } = 8;
}

/// <summary>One batch: which dataset entries, and their common length (the shortest when cropping, else the longest).</summary>
internal sealed record BatchPlan(int[] Indices, int Length);

/// <summary>
/// Groups recordings into batches as fairseq does for raw audio: lengths measured at the model's rate and capped at
/// max_sample_size, sorted longest first with seeded random tie-breaking, cut by fairseq's batch_by_size (a batch's
/// recording count times its longest length stays within max_tokens, its count within max_sentences, and the count
/// is below required_batch_size_multiple or a multiple of it; a final batch whose count is not a multiple is dropped,
/// unless it is the only one), then shuffled per epoch. Each batch is cropped to its shortest item (or padded to its
/// longest). Deterministic for a given seed and epoch.
/// </summary>
internal static class BatchSampler
{
    /// <summary>The batches of <paramref name="epoch"/> (1-based) in training order.</summary>
    public static IReadOnlyList<BatchPlan> Plan(IReadOnlyList<AudioEntry> entries, BatchingOptions options, ulong seed, int epoch,
        int modelRate = 16000)
    {
        var random = new RandomSource(seed * 1_000_003UL + (ulong)epoch);
        var sorted = Enumerable.Range(0, entries.Count)
            .Select(i => (Index: i, Size: entries[i].Samples * modelRate / entries[i].SampleRate))
            .Where(e => e.Size >= options.MinSampleSize)
            .Select(e => (e.Index, Length: (int)Math.Min(e.Size, options.MaxSampleSize), Tie: random.NextUniform()))
            .OrderByDescending(e => e.Length).ThenBy(e => e.Tie).ToList();
        int[] ends = BatchEnds(sorted.Select(e => e.Length).ToArray(), options);
        var batches = new List<BatchPlan>();
        for (int b = 0, start = 0; b < ends.Length; start = ends[b++])
        {
            if (ends[b] == start)
                continue;   // only when a recording alone exceeds max_tokens (fairseq asserts instead): it gets its own batch
            var items = sorted.GetRange(start, ends[b] - start);
            batches.Add(new BatchPlan(items.Select(e => e.Index).ToArray(), options.PadToLongest ? items[0].Length : items[^1].Length));
        }
        int multiple = options.RequiredBatchSizeMultiple;
        if (batches.Count > 1 && multiple > 1 && batches[^1].Indices.Length % multiple != 0)
            batches.RemoveAt(batches.Count - 1);
        for (int i = batches.Count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (batches[i], batches[j]) = (batches[j], batches[i]);
        }
        return batches;
    }

    // fairseq's batch_by_size_vec over lengths in batch order: the end of every batch. A candidate end is committed
    // only while the batch's count is below the multiple or a multiple of it; on overflow the committed batch is closed
    // and the uncommitted tail starts the next one (or, if the tail alone overflows, is closed too).
    private static int[] BatchEnds(int[] lengths, BatchingOptions options)
    {
        int n = lengths.Length, multiple = Math.Max(1, options.RequiredBatchSizeMultiple);
        long maxTokens = options.MaxTokens, maxSentences = options.MaxSentences ?? 0;
        if (n == 0)
            return [];
        var ends = new int[n + 1];
        int count = 0, batchStart = 0;
        long tailMax = 0, batchMax = 0;
        for (int pos = 0; pos < n; pos++)
        {
            tailMax = Math.Max(tailMax, lengths[pos]);
            int newEnd = pos + 1, sentences = newEnd - batchStart;
            long newMax = Math.Max(batchMax, tailMax);
            bool overflow = (maxSentences > 0 && sentences > maxSentences) || (maxTokens > 0 && sentences * newMax > maxTokens);
            bool fitsMultiple = sentences < multiple || sentences % multiple == 0;
            if (overflow)
            {
                if (maxTokens > 0 && tailMax * (newEnd - ends[count]) > maxTokens)
                {
                    ends[++count] = pos;
                    tailMax = lengths[pos];
                }
                batchStart = ends[count++];
                newMax = tailMax;
            }
            if (overflow || fitsMultiple)
            {
                ends[count] = newEnd;
                batchMax = newMax;
                tailMax = 0;
            }
        }
        if (ends[count] != n)
            ends[++count] = n;
        return ends[..(count + 1)];
    }
}
