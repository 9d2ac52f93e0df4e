using Wav2Vec2.Tensors;

namespace Wav2Vec2.Nn;

/// <summary>
/// Parameter initialisation: uniform (PyTorch's default, kaiming_uniform with a = sqrt(5)) and normal. Each call
/// reserves its values' positions of the counter-based stream at once, so the values do not depend on when they are
/// computed: inside <see cref="Defer"/> (a model built only to be overwritten by a checkpoint) the filling waits, and
/// only the tensors the checkpoint did not provide are filled, with the values an eager build would have given them.
/// </summary>
internal static class Init
{
    [ThreadStatic] private static DeferredInit? t_deferred;

    /// <summary>Fills <paramref name="tensor"/> with uniform values in [-bound, bound).</summary>
    public static void Uniform(Tensor tensor, float bound, RandomSource random)
    {
        ulong at = random.Reserve(tensor.Length);
        Fill(tensor, values =>
        {
            for (int i = 0; i < values.Length; i++)
                values[i] = (2f * random.UniformAt(at + (ulong)i) - 1f) * bound;
        });
    }

    /// <summary>Fills <paramref name="tensor"/> with normal values of the given standard deviation (Box-Muller, two
    /// positions per value).</summary>
    public static void Normal(Tensor tensor, float std, RandomSource random)
    {
        ulong at = random.Reserve(2L * tensor.Length);
        Fill(tensor, values =>
        {
            for (int i = 0; i < values.Length; i++)
            {
                double u1 = 1.0 - random.UniformAt(at + 2 * (ulong)i);
                double u2 = random.UniformAt(at + 2 * (ulong)i + 1);
                values[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2)) * std;
            }
        });
    }

    /// <summary>
    /// Until the returned scope completes, initialisations on this thread are recorded instead of computed;
    /// <see cref="DeferredInit.Complete"/> then computes those of the given tensors (the ones a load left missing).
    /// </summary>
    public static DeferredInit Defer() => t_deferred = new DeferredInit();

    /// <summary>
    /// Sets <paramref name="tensor"/> from others by <paramref name="compute"/> (e.g. weight norm's g from v), after
    /// their initialisation; deferred like the others (then computed from what v was loaded with, if v was).
    /// </summary>
    public static void Derived(Tensor tensor, Action compute) => Fill(tensor, _ => compute());

    private static void Fill(Tensor tensor, SpanAction fill)
    {
        if (t_deferred is { } deferred)
            deferred.Pending.Add((tensor, fill));
        else
            fill(tensor.Span);
    }

    internal delegate void SpanAction(Span<float> values);

    /// <summary>Initialisations waiting for a load to say which tensors it did not provide.</summary>
    internal sealed class DeferredInit : IDisposable
    {
        public List<(Tensor Tensor, SpanAction Fill)> Pending { get; } = [];

        /// <summary>Computes the recorded initialisations of <paramref name="tensors"/>, in the order they were
        /// recorded; the rest are dropped.</summary>
        public void Complete(IEnumerable<Tensor> tensors)
        {
            Dispose();
            var missing = new HashSet<Tensor>(tensors, ReferenceEqualityComparer.Instance);
            foreach (var (tensor, fill) in Pending)
                if (missing.Contains(tensor))
                    fill(tensor.Span);
        }

        /// <summary>Stops recording (a failed load leaves the model unused).</summary>
        public void Dispose()
        {
            if (t_deferred == this)
                t_deferred = null;
        }
    }
}
