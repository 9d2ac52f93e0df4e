namespace Wav2Vec2.Kernels;

/// <summary>
/// Process-wide pool of float arrays: tensor storage of arenas and kernel scratch space. Lengths are rounded up to one
/// of 16 sizes per octave (at most 6.25% slack), so shapes that differ slightly (the last chunk of a recording, the
/// next batch's length) reuse the same buffers; callers use only the length they asked for. Unlike ArrayPool.Shared
/// it does not depend on which thread returns a buffer, so reuse is predictable.
/// </summary>
public static class BufferPool
{
    private const int MaxArraysPerLength = 64;
    private static readonly Dictionary<int, Stack<float[]>> Free = [];
    private static long _pooledBytes, _inUseBytes, _peakInUseBytes;

    /// <summary>
    /// Bytes the pool may keep idle beyond the high-water mark of bytes in use at once (default 1 GiB). A steady
    /// training loop therefore recycles its whole working set (its memory never exceeds its peak), while a workload with
    /// ever-changing shapes cannot grow the pool without limit: a buffer returned beyond the allowance is left to the
    /// garbage collector.
    /// </summary>
    public static long MaxPooledBytes { get; set; } = 1L << 30;

    /// <summary>Bytes currently held idle by the pool.</summary>
    public static long PooledBytes => Interlocked.Read(ref _pooledBytes);

    /// <summary>An array of at least <paramref name="length"/> elements (its bucket's size), contents unspecified.</summary>
    internal static float[] Rent(int length)
    {
        int size = BucketSize(length);
        lock (Free)
        {
            _inUseBytes += 4L * size;
            _peakInUseBytes = Math.Max(_peakInUseBytes, _inUseBytes);
            if (Free.TryGetValue(size, out Stack<float[]>? stack) && stack.Count > 0)
            {
                _pooledBytes -= 4L * size;
                return stack.Pop();
            }
        }
        return GC.AllocateUninitializedArray<float>(size);
    }

    /// <summary>Gives <paramref name="buffer"/> (from <see cref="Rent"/>) back; the caller must not use it afterwards.</summary>
    internal static void Return(float[] buffer)
    {
        lock (Free)
        {
            if (BucketSize(buffer.Length) != buffer.Length)
                return;
            _inUseBytes -= 4L * buffer.Length;
            if (_pooledBytes + 4L * buffer.Length > Math.Max(MaxPooledBytes, _peakInUseBytes))
                return;
            if (!Free.TryGetValue(buffer.Length, out Stack<float[]>? stack))
                Free[buffer.Length] = stack = new Stack<float[]>();
            if (stack.Count < MaxArraysPerLength)
            {
                stack.Push(buffer);
                _pooledBytes += 4L * buffer.Length;
            }
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
        lock (Free)
        {
            Free.Clear();
            _pooledBytes = 0;
            _peakInUseBytes = _inUseBytes;
        }
    }
}
