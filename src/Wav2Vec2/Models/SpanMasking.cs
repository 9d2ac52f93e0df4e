using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>
/// Time masking and distractor sampling of wav2vec 2.0 pre-training, with fairseq's semantics (compute_mask_indices
/// with static span lengths and require_same_masks; sample_negatives).
/// </summary>
internal static class SpanMasking
{
    /// <summary>
    /// Masked frames of a (batch, frames) batch: each utterance starts int(probability * length / spanLength + u)
    /// spans (u uniform in [0, 1); at least <paramref name="minMasks"/>) at distinct positions in
    /// [0, length - spanLength), each covering <paramref name="spanLength"/> frames; spans may overlap. Every utterance
    /// then keeps the same number of masked frames (the batch minimum, chosen at random), as fairseq does for
    /// pre-training. Returns flags, row-major (batch * frames).
    /// </summary>
    public static bool[] ComputeMaskIndices(int batch, int frames, float probability, int spanLength, int minMasks,
        RandomSource random, int[]? frameLengths = null)
    {
        if (spanLength < 1)
            throw new ArgumentOutOfRangeException(nameof(spanLength), "mask span length must be at least 1");
        var perItem = new List<int>[batch];
        for (int b = 0; b < batch; b++)
        {
            int length = frameLengths?[b] ?? frames;
            int spans = Math.Max(minMasks, (int)(probability * length / spanLength + random.NextUniform()));
            int positions = length - spanLength;
            spans = Math.Min(spans, Math.Max(0, positions));
            var masked = new SortedSet<int>();
            foreach (int start in SampleWithoutReplacement(positions, spans, random))
                for (int offset = 0; offset < spanLength; offset++)
                    masked.Add(start + offset);
            perItem[b] = [.. masked];
        }
        int common = perItem.Min(m => m.Count);
        var mask = new bool[batch * frames];
        for (int b = 0; b < batch; b++)
        {
            List<int> chosen = perItem[b];
            if (chosen.Count > common)
                chosen = SampleWithoutReplacement(chosen.Count, common, random).Select(i => perItem[b][i]).ToList();
            foreach (int t in chosen)
                mask[b * frames + t] = true;
        }
        return mask;
    }

    /// <summary>
    /// For each of <paramref name="batch"/> x <paramref name="masked"/> masked frames (utterance-major), the indices
    /// (into the same flattened order) of <paramref name="count"/> distractors drawn uniformly, with replacement, from the
    /// other masked frames of the same utterance. Result: (batch * masked * count), distractor-minor.
    /// </summary>
    public static int[] SampleNegatives(int batch, int masked, int count, RandomSource random)
    {
        var indices = new int[batch * masked * count];
        if (masked < 2)
            throw new ArgumentException($"distractors need at least 2 masked frames per utterance, got {masked}");
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < masked; t++)
                for (int k = 0; k < count; k++)
                {
                    int other = random.NextInt(masked - 1);
                    if (other >= t)
                        other++;   // skip the positive itself
                    indices[(b * masked + t) * count + k] = b * masked + other;
                }
        return indices;
    }

    /// <summary>A uniform k-subset of [0, n) (partial Fisher-Yates), in draw order.</summary>
    private static IEnumerable<int> SampleWithoutReplacement(int n, int k, RandomSource random)
    {
        var pool = new int[n];
        for (int i = 0; i < n; i++)
            pool[i] = i;
        for (int i = 0; i < k; i++)
        {
            int j = i + random.NextInt(n - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
            yield return pool[i];
        }
    }
}
