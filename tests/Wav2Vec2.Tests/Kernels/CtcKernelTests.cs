using Wav2Vec2.Kernels;

namespace Wav2Vec2.Tests.Kernels;

/// <summary>The CTC recursions against their definition: a sum over every alignment of the frames.</summary>
[TestClass]
public sealed class CtcKernelTests
{
    [TestMethod]
    [DataRow(new[] { 1, 2 }, 5, 4)]
    [DataRow(new[] { 1, 1 }, 5, 3)]        // a repeat needs a blank between
    [DataRow(new[] { 2, 1, 2 }, 3, 3)]     // exactly as many frames as labels
    [DataRow(new[] { 3 }, 6, 4)]
    [DataRow(new int[0], 4, 3)]            // empty target: all blanks
    public void LossAndPosteriorsEqualTheSumOverAllAlignments(int[] target, int frames, int vocab)
    {
        float[] logProbs = LogSoftmaxRows(RandomArray(frames * vocab, target.Length * 31 + frames, 2f), vocab);
        var gradient = new float[frames * vocab];
        double nll = CtcKernels.LossAndGradient(logProbs, frames, vocab, target, blank: 0, gradient);

        (double probability, double[] occupancy) = Enumerate(logProbs, frames, vocab, target);
        Assert.AreEqual(-Math.Log(probability), nll, 1e-9 * Math.Max(1, nll), "negative log-likelihood");
        for (int i = 0; i < gradient.Length; i++)
            Assert.AreEqual(-occupancy[i] / probability, gradient[i], 1e-5, $"posterior of frame {i / vocab}, class {i % vocab}");
    }

    [TestMethod]
    public void ImpossibleTargetsAreInfiniteAndLeaveTheGradientAlone()
    {
        float[] logProbs = LogSoftmaxRows(RandomArray(3 * 4, 5), 4);
        var gradient = new float[12];
        Assert.AreEqual(double.PositiveInfinity, CtcKernels.LossAndGradient(logProbs, 3, 4, [1, 1, 2], 0, gradient));
        Assert.AreEqual(double.PositiveInfinity, CtcKernels.LossAndGradient(logProbs, 3, 4, [1, 2, 3, 1], 0, gradient));
        Assert.AreEqual(double.PositiveInfinity, CtcKernels.LossAndGradient(logProbs, 0, 4, [1], 0, gradient));
        Assert.AreEqual(0.0, CtcKernels.LossAndGradient(logProbs, 0, 4, [], 0, gradient));
        Assert.IsTrue(gradient.All(g => g == 0));
    }

    // Every frame labelling whose CTC collapse (merge repeats, drop blanks) equals the target: total probability and,
    // per (frame, class), the probability of the labellings that emit that class there.
    private static (double Probability, double[] Occupancy) Enumerate(float[] logProbs, int frames, int vocab, int[] target)
    {
        var occupancy = new double[frames * vocab];
        double total = 0;
        var path = new int[frames];
        for (long code = 0; code < (long)Math.Pow(vocab, frames); code++)
        {
            long rest = code;
            for (int t = 0; t < frames; t++, rest /= vocab)
                path[t] = (int)(rest % vocab);
            var collapsed = new List<int>();
            for (int t = 0; t < frames; t++)
                if (path[t] != 0 && (t == 0 || path[t] != path[t - 1]))
                    collapsed.Add(path[t]);
            if (!collapsed.SequenceEqual(target))
                continue;
            double p = Math.Exp(Enumerable.Range(0, frames).Sum(t => (double)logProbs[t * vocab + path[t]]));
            total += p;
            for (int t = 0; t < frames; t++)
                occupancy[t * vocab + path[t]] += p;
        }
        return (total, occupancy);
    }

    private static float[] LogSoftmaxRows(float[] x, int width)
    {
        var y = new float[x.Length];
        ActivationKernels.LogSoftmaxRows(x, x.Length / width, width, y);
        return y;
    }
}
