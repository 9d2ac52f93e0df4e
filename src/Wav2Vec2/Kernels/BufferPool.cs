namespace Wav2Vec2.Kernels;

/// <summary>
/// Process-wide pool of float arrays keyed by exact length: tensor storage of arenas and kernel scratch space.
/// Shapes repeat from step to step, so a steady training or inference loop finds every buffer it needs here.
/// Unlike ArrayPool.Shared it does not depend on which thread returns a buffer, so reuse is predictable.
/// </summary>
internal static class BufferPool
{
    private const int MaxArraysPerLength = 64;
    private static readonly Dictionary<int, Stack<float[]>> Free = [];

    /// <summary>An array of exactly <paramref name="length"/> elements with unspecified contents.</summary>
    public static float[] Rent(int length)
    {
        lock (Free)
            if (Free.TryGetValue(length, out Stack<float[]>? stack) && stack.Count > 0)
                return stack.Pop();
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>Gives <paramref name="buffer"/> back; the caller must not use it afterwards.</summary>
    public static void Return(float[] buffer)
    {
        lock (Free)
        {
            if (!Free.TryGetValue(buffer.Length, out Stack<float[]>? stack))
                Free[buffer.Length] = stack = new Stack<float[]>();
            if (stack.Count < MaxArraysPerLength)
                stack.Push(buffer);
        }
    }
}
