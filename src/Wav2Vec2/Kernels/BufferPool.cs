namespace Wav2Vec2.Kernels;

/// <summary>
/// Process-wide pool of float arrays: tensor storage of arenas and kernel scratch space. Lengths are rounded up to one
/// of 16 sizes per octave (at most 6.25% slack), so shapes that differ slightly (the last chunk of a recording, the
/// next batch's length) reuse the same buffers; callers use only the length they asked for. Unlike ArrayPool.Shared
/// it does not depend on which thread returns a buffer, so reuse is predictable.
/// </summary>
internal static class BufferPool
{
    private static readonly Dictionary<int, Bucket> Buckets = [];
    private static long _pooledBytes, _inUseBytes, _peakInUseBytes;

    /// <summary>
    /// Idle bytes the pool may keep beyond what each size has needed at once (default 1 GiB). Every size keeps as many
    /// idle buffers as it ever had in use together, so a steady training loop recycles its whole working set and
    /// allocates nothing after its first step; a workload with ever-changing shapes cannot grow the pool past this
    /// allowance: a buffer returned beyond it is left to the garbage collector.
    /// </summary>
    public static long MaxPooledBytes { get; set; } = 1L << 30;

    /// <summary>The most bytes rented from the pool at one time (a working-set measure).</summary>
    public static long PeakInUseBytes => Interlocked.Read(ref _peakInUseBytes);

    /// <summary>Bytes currently held idle by the pool.</summary>
    public static long PooledBytes => Interlocked.Read(ref _pooledBytes);

    /// <summary>An array of at least <paramref name="length"/> elements (its bucket's size), contents unspecified.</summary>
    internal static float[] Rent(int length)
    {
        int size = BucketSize(length);
        lock (Buckets)
        {
            _inUseBytes += 4L * size;
            _peakInUseBytes = Math.Max(_peakInUseBytes, _inUseBytes);
            if (!Buckets.TryGetValue(size, out Bucket? bucket))
                Buckets[size] = bucket = new Bucket();
            bucket.InUse++;
            bucket.PeakInUse = Math.Max(bucket.PeakInUse, bucket.InUse);
            if (bucket.Idle.Count > 0)
            {
                _pooledBytes -= 4L * size;
                return bucket.Idle.Pop();
            }
        }
        return GC.AllocateUninitializedArray<float>(size);
    }

    /// <summary>Gives <paramref name="buffer"/> (from <see cref="Rent"/>) back; the caller must not use it afterwards.</summary>
    internal static void Return(float[] buffer)
    {
        lock (Buckets)
        {
            if (!Buckets.TryGetValue(buffer.Length, out Bucket? bucket) || bucket.InUse == 0)
                return;   // not one of ours
            bucket.InUse--;
            _inUseBytes -= 4L * buffer.Length;
            if (bucket.Idle.Count >= bucket.PeakInUse && _pooledBytes + 4L * buffer.Length > MaxPooledBytes)
                return;
            bucket.Idle.Push(buffer);
            _pooledBytes += 4L * buffer.Length;
        }
    }

    /// <summary>The pooled size serving a request of <paramref name="length"/>: exact below 64, else 16 steps per octave.</summary>
    internal static int BucketSize(int length)
    {
        if (length < 64)
            return length;
        int step = 1 << (System.Numerics.BitOperations.Log2((uint)length) - 4);
        long size = ((long)length + step - 1) / step * step;
        return size <= Array.MaxLength ? (int)size : length;
    }

    /// <summary>Drops every idle buffer (for example after a long job with shapes that will not recur).</summary>
    public static void Clear()
    {
        lock (Buckets)
        {
            foreach (Bucket bucket in Buckets.Values)
            {
                bucket.Idle.Clear();
                bucket.PeakInUse = bucket.InUse;
            }
            _pooledBytes = 0;
            _peakInUseBytes = _inUseBytes;
        }
    }

    private sealed class Bucket
    {
        public readonly Stack<float[]> Idle = new();
        public int InUse, PeakInUse;
    }
}
