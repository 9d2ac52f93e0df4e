using System.Numerics;

namespace Wav2Vec2.Decoding;

/// <summary>
/// The n-grams of one order as flat arrays: 64-bit n-gram hashes sorted ascending beside their values, plus a bucket
/// index over the hashes' top bits (hashes are uniform, so a bucket holds a handful of keys in one or two cache lines).
/// No per-n-gram objects: 8 bytes of key + sizeof(T) + at most 1 byte of index per n-gram.
/// </summary>
internal sealed class NGramTable<T> where T : unmanaged
{
    private readonly ulong[] _keys;     // (count,) sorted
    private readonly T[] _values;       // (count,) value of _keys[i]
    private readonly int[] _buckets;    // (2^bits + 1,) first index of each top-bits bucket
    private readonly int _shift;        // 64 - bits

    /// <summary>Takes ownership of the filled arrays, sorts them and builds the index.</summary>
    /// <param name="keys">n-gram hashes, any order (sorted in place).</param>
    /// <param name="values">their values (permuted with the keys).</param>
    /// <param name="duplicate">a key that occurs twice (a repeated n-gram), or null.</param>
    public NGramTable(ulong[] keys, T[] values, out ulong? duplicate)
    {
        Array.Sort(keys, values);
        _keys = keys;
        _values = values;
        duplicate = null;
        for (int i = 1; i < keys.Length && duplicate is null; i++)
            if (keys[i] == keys[i - 1])
                duplicate = keys[i];
        // About one bucket per 4 keys, at least 1 bit so the shift stays below 64.
        int bits = Math.Max(1, 31 - BitOperations.LeadingZeroCount((uint)Math.Max(1, keys.Length / 4)));
        _shift = 64 - bits;
        _buckets = new int[(1 << bits) + 1];
        int k = 0;
        for (int b = 0; b < 1 << bits; b++)
        {
            _buckets[b] = k;
            while (k < keys.Length && (int)(keys[k] >> _shift) == b)
                k++;
        }
        _buckets[1 << bits] = keys.Length;
    }

    /// <summary>Number of n-grams.</summary>
    public int Count => _keys.Length;

    /// <summary>Bytes held by the arrays.</summary>
    public long Bytes => _keys.LongLength * sizeof(ulong) + _values.LongLength * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()
                         + _buckets.LongLength * sizeof(int);

    /// <summary>The value stored under <paramref name="key"/>, if any.</summary>
    public bool TryGetValue(ulong key, out T value)
    {
        int bucket = (int)(key >> _shift);
        int end = _buckets[bucket + 1];
        for (int i = _buckets[bucket]; i < end; i++)
        {
            ulong k = _keys[i];
            if (k >= key)
            {
                if (k != key)
                    break;
                value = _values[i];
                return true;
            }
        }
        value = default;
        return false;
    }
}

/// <summary>Probability and back-off weight of an n-gram that can also be a context (every order but the highest).</summary>
internal readonly record struct ProbBackoff(float Prob, float Backoff);
