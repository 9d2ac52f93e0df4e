using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Kernels;

/// <summary>Each hand-written kernel against its plain reference twin, on every kernel path (sets the process-wide path).</summary>
[TestClass]
[DoNotParallelize]
public sealed class KernelTwinTests
{
    [TestCleanup]
    public void Restore() => KernelPaths.Requested = KernelPath.Auto;

    public static IEnumerable<object[]> VectorPaths() => TestSupport.VectorPaths();

    // Runs `run` on the scalar twins, then on `path`, and compares each array it returns within its tolerance.
    private static void AssertPathMatchesScalar(string path, string what, Func<float[][]> run, params float[] tolerances)
    {
        KernelPaths.Requested = KernelPath.Scalar;
        float[][] expected = run();
        KernelPaths.Requested = KernelPaths.Parse(path);
        float[][] actual = run();
        for (int i = 0; i < expected.Length; i++)
            AssertClose(expected[i], actual[i], tolerances[i], $"{what}, output {i}, on {path}");
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void ChannelsLastConvMatchesDirectConvolution(string path)
    {
        KernelPaths.Requested = KernelPaths.Parse(path);
        // (batch, length, in, out, kernel, stride, pad left, pad right, groups)
        foreach (int[] c in new[]
                 {
                     new[] { 1, 400, 1, 8, 10, 5, 0, 0, 1 },   // first feature-encoder layer
                     new[] { 2, 37, 8, 8, 3, 2, 0, 0, 1 },     // later layers: kernel 3 / 2, stride 2, overlapping rows
                     new[] { 1, 29, 16, 16, 8, 1, 4, 3, 4 },   // positional conv: grouped, even kernel, one frame less
                     new[] { 3, 11, 6, 9, 4, 3, 2, 2, 3 },
                     new[] { 1, 70, 96, 48, 5, 1, 2, 2, 2 },   // 48 channels per group: runs of 48 across 8-step blocks
                 })
        {
            var s = new ChannelsLastConvShape(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
            float[] x = RandomArray(s.Batch * s.InLength * s.InChannels, 1), w = RandomArray(s.OutChannels * s.GroupInChannels * s.Kernel, 2);
            float[] bias = RandomArray(s.OutChannels, 3);
            float[] y = new float[s.Batch * s.OutLength * s.OutChannels], expected = new float[y.Length];
            ChannelsLastConvKernels.Forward(x, w, bias, s, y);
            ChannelsLastConvKernels.ForwardReference(x, w, bias, s, expected);
            AssertClose(expected, y, 2e-6f * (s.PatchSize + 4), $"channels-last conv {s} on {path}");
        }
    }

    public static IEnumerable<object[]> AllPaths() => [.. TestSupport.VectorPaths(), [nameof(KernelPath.Scalar)]];

    [TestMethod]
    [DynamicData(nameof(AllPaths))]
    public void ResidualLayerNormIsTheLayerNormOfTheSumToTheBit(string path)
    {
        KernelPaths.Requested = KernelPaths.Parse(path);
        // Sizes with and without a scalar tail; a row of one value.
        foreach ((int rows, int size) in new[] { (5, 768), (3, 37), (4, 1) })
        {
            Tensor x = Tensor.FromArray(RandomArray(rows * size, size, 3f), rows, size);
            Tensor residual = Tensor.FromArray(RandomArray(rows * size, size + 1), rows, size);
            Tensor gamma = Tensor.FromArray(RandomArray(size, 5), size), beta = Tensor.FromArray(RandomArray(size, 6), size);
            float[] expected = Wav2Vec2.Autograd.Ops.LayerNorm(Wav2Vec2.Autograd.Ops.Add(x, residual), gamma, beta).ToArray();
            CollectionAssert.AreEqual(expected, Wav2Vec2.Autograd.Ops.AddLayerNorm(x, residual, gamma, beta).ToArray(),
                $"{rows} x {size} on {path}");
        }
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void ChannelsLastGroupNormMatchesScalarPath(string path)
    {
        // Odd channel counts leave a scalar tail after the vectors; an offset keeps the shifted sums honest.
        foreach ((int channels, int groups) in new[] { (37, 37), (24, 3), (70, 5) })
        {
            float[] x = RandomArray(2 * 53 * channels, channels, 3f).Select(v => v + 10f).ToArray();
            float[] gamma = RandomArray(channels, 5), beta = RandomArray(channels, 6), dy = RandomArray(x.Length, 7);
            AssertPathMatchesScalar(path, $"group norm {channels}/{groups}", () =>
            {
                float[] y = new float[x.Length], dx = new float[x.Length], dg = new float[channels], db = new float[channels];
                float[] mean = new float[2 * groups], rstd = new float[2 * groups];
                ChannelsLastNormKernels.GroupNormForward(x, 2, 53, channels, groups, gamma, beta, 1e-5f, y, mean, rstd);
                ChannelsLastNormKernels.GroupNormBackward(dy, x, 2, 53, channels, groups, gamma, mean, rstd, dx, dg, db);
                return [y, dx, dg, db];
            }, 1e-5f, 1e-4f, 1e-4f, 1e-4f);
        }
    }

    [TestMethod]
    [DataRow(1, 1, 400, 8, 10, 5, 0, 1)]      // wav2vec 2.0 first conv layer
    [DataRow(2, 8, 37, 8, 3, 2, 0, 1)]        // later feature-encoder layers (kernel 3 / 2, stride 2)
    [DataRow(1, 16, 29, 16, 8, 1, 4, 4)]      // positional conv: grouped, even kernel, padding k / 2
    [DataRow(3, 6, 11, 9, 4, 3, 2, 3)]
    [DataRow(1, 2, 2500, 4, 3, 1, 1, 1)]      // longer than one im2col time tile
    public void Conv1dMatchesDirectConvolution(int batch, int inC, int length, int outC, int kernel, int stride,
        int padding, int groups)
    {
        var s = new Conv1dShape(batch, inC, length, outC, kernel, stride, padding, groups);
        float[] x = RandomArray(batch * inC * length, 1), w = RandomArray(outC * (inC / groups) * kernel, 2);
        float[] bias = RandomArray(outC, 3);
        float[] y = new float[batch * outC * s.OutLength], expected = new float[y.Length];
        Conv1dKernels.Forward(x, w, bias, s, y);
        Conv1dKernels.ForwardReference(x, w, bias, s, expected);
        AssertClose(expected, y, 1e-5f * (inC / groups * kernel), "conv1d");
    }

    [TestMethod]
    public void AttentionMatchesNaiveLoopsWithAndWithoutPadding()
    {
        var s = new AttentionShape(3, 13, 4, 5);
        int n = s.Batch * s.Length * s.ModelDim;
        float[] q = RandomArray(n, 4), k = RandomArray(n, 5), v = RandomArray(n, 6);
        var padding = new bool[s.Batch * s.Length];
        for (int t = 9; t < 13; t++)
            padding[1 * 13 + t] = true;          // item 1 has 9 real frames
        for (int t = 0; t < 13; t++)
            padding[2 * 13 + t] = true;          // item 2 is all padding: zero output, not NaN
        foreach (bool[] mask in new[] { Array.Empty<bool>(), padding })
        {
            float[] output = new float[n], expected = new float[n], probabilities = new float[s.ProbabilityCount];
            float scale = 1f / MathF.Sqrt(s.HeadDim);
            AttentionKernels.Forward(q, k, v, mask, s, scale, DropoutMask.None, probabilities, output);
            AttentionKernels.ForwardReference(q, k, v, mask, s, scale, expected);
            AssertClose(expected, output, 1e-5f, $"attention (mask: {mask.Length > 0})");
            AttentionKernels.Forward(q, k, v, mask, s, scale, DropoutMask.None, [], output);   // inference: scratch per head
            AssertClose(expected, output, 1e-5f, $"attention without kept probabilities (mask: {mask.Length > 0})");
            float[] bias = RandomArray((int)s.ProbabilityCount, 7);   // an additive (batch, heads, t, t) bias, as WavLM's
            AttentionKernels.Forward(q, k, v, mask, s, scale, DropoutMask.None, probabilities, output, bias);
            AttentionKernels.ForwardReference(q, k, v, mask, s, scale, expected, bias);
            AssertClose(expected, output, 1e-5f, $"attention with a bias (mask: {mask.Length > 0})");
            AttentionKernels.Forward(q, k, v, mask, s, scale, DropoutMask.None, [], output, bias);
            AssertClose(expected, output, 1e-5f, $"attention with a bias, inference blocks (mask: {mask.Length > 0})");
        }
    }

    [TestMethod]
    public void VectorExpIsWithinTwoUlpsOfMathFExpAndZeroBelowTheNormalRange()
    {
        float[] x = [float.NegativeInfinity, -1000f, -87.5f, -87.2f, -50f, -10.3f, -1f, -1e-3f, 0f, 1e-3f, 0.5f, 1f, 10f, 80f,
            -0.6931472f, -3.3f, -20f, -0.1f];
        AssertExp<Simd512>(x);
        AssertExp<Simd256>(x);
        AssertExp<Simd128>(x);
        Assert.IsTrue(float.IsNaN(ExpOf<Simd512>([float.NaN])[0]), "NaN stays NaN");
    }

    private static void AssertExp<TVec>(float[] x) where TVec : struct, ISimd<TVec>
    {
        float[] y = ExpOf<TVec>(x);
        for (int i = 0; i < x.Length; i++)
        {
            float expected = x[i] < -87.3f ? 0f : MathF.Exp(x[i]);
            Assert.IsTrue(MathF.Abs(y[i] - expected) <= 2.4e-7f * expected, $"{typeof(TVec).Name}: exp({x[i]}) = {y[i]}, expected {expected}");
        }
    }

    private static unsafe float[] ExpOf<TVec>(float[] x) where TVec : struct, ISimd<TVec>
    {
        int n = (x.Length + TVec.Count - 1) / TVec.Count * TVec.Count;
        float[] padded = new float[n], y = new float[n];
        x.CopyTo(padded, 0);
        fixed (float* px = padded, py = y)
            for (int i = 0; i < n; i += TVec.Count)
                TVec.Store(TVec.Exp(TVec.Load(px + i)), py + i);
        return y[..x.Length];
    }

    [TestMethod]
    public void InferenceAttentionInBlocksOfQueryRowsEqualsTheWholeComputation()
    {
        // 400 frames: two blocks of query rows (324 + 76) in inference, one in training.
        var s = new AttentionShape(2, 400, 2, 8);
        int n = s.Batch * s.Length * s.ModelDim;
        float[] q = RandomArray(n, 14), k = RandomArray(n, 15), v = RandomArray(n, 16);
        var padding = new bool[s.Batch * s.Length];
        for (int t = 350; t < 400; t++)
            padding[s.Length + t] = true;
        float scale = 1f / MathF.Sqrt(s.HeadDim);
        float[] expected = new float[n], blocked = new float[n], whole = new float[n];
        AttentionKernels.ForwardReference(q, k, v, padding, s, scale, expected);
        AttentionKernels.Forward(q, k, v, padding, s, scale, DropoutMask.None, [], blocked);
        AssertClose(expected, blocked, 1e-5f, "blocked inference attention");
        // With dropout, each block draws the mask of its own probabilities: the same output as one block.
        DropoutMask dropout = new RandomSource(3).NextDropoutMask(0.2f, s.ProbabilityCount);
        AttentionKernels.Forward(q, k, v, padding, s, scale, dropout, new float[s.ProbabilityCount], whole);
        AttentionKernels.Forward(q, k, v, padding, s, scale, dropout, [], blocked);
        CollectionAssert.AreEqual(whole, blocked);
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void LayerNormMatchesScalarPath(string path)
    {
        foreach (int size in new[] { 1, 7, 16, 37, 768 })
        {
            int rows = 5;
            float[] x = RandomArray(rows * size, size, 3f).Select(v => v + 2f).ToArray(), dy = RandomArray(rows * size, 8);
            float[] gamma = RandomArray(size, 9), beta = RandomArray(size, 10);
            AssertPathMatchesScalar(path, $"layer norm {size}", () =>
            {
                float[] y = new float[x.Length], dx = new float[x.Length], dg = new float[size], db = new float[size];
                float[] mean = new float[rows], rstd = new float[rows];
                NormKernels.LayerNormForward(x, rows, size, gamma, beta, 1e-5f, y, mean, rstd);
                NormKernels.LayerNormBackward(dy, x, rows, size, gamma, mean, rstd, dx, dg, db);
                return [y, dx, dg, db];
            }, 1e-5f, 1e-4f, 1e-4f, 1e-4f);
        }
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void SoftmaxMatchesScalarPath(string path)
    {
        foreach (int cols in new[] { 1, 5, 16, 33, 499 })
        {
            float[] x = RandomArray(3 * cols, cols, 6f), dy = RandomArray(3 * cols, 2);
            x[cols - 1] = float.NegativeInfinity;                          // a masked key
            AssertPathMatchesScalar(path, $"softmax {cols}", () =>
            {
                float[] y = new float[x.Length], dx = new float[x.Length];
                ActivationKernels.SoftmaxRows(x, 3, cols, y);
                ActivationKernels.SoftmaxBackwardRows(y, dy, 3, cols, dx);
                return [y, dx];
            }, 1e-6f, 1e-5f);
        }
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void DropoutMasksAreBitIdenticalToTheScalarGenerator(string path)
    {
        var mask = new DropoutMask(0x1234_5678_9ABC_DEF0UL, 1_000_003UL, 0.3f);
        float[] values = RandomArray(1037, 12), dy = RandomArray(1037, 13), dx = RandomArray(1037, 14);
        (float[] Applied, float[] Added) Run(KernelPath p)
        {
            KernelPaths.Requested = p;
            float[] applied = (float[])values.Clone(), added = (float[])dx.Clone();
            mask.Apply(applied, 77);
            mask.AddMasked(dy, added, 77);
            return (applied, added);
        }
        var expected = Run(KernelPath.Scalar);
        var actual = Run(KernelPaths.Parse(path));
        CollectionAssert.AreEqual(expected.Applied, actual.Applied, "masked values");
        CollectionAssert.AreEqual(expected.Added, actual.Added, "masked gradient");
        Assert.IsTrue(actual.Applied.Count(v => v == 0f) is > 250 and < 380, "about 30% dropped");
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void VectorisedGeluMatchesScalarTwin(string path)
    {
        KernelPaths.Requested = KernelPaths.Parse(path);
        float[] x = RandomArray(1003, 7, 8f), y = new float[x.Length];
        float[] dy = RandomArray(x.Length, 8), dx = new float[x.Length];
        ActivationKernels.GeluForward(x, y);
        ActivationKernels.GeluBackward(x, dy, dx);
        AssertClose(x.Select(ActivationKernels.GeluScalar).ToArray(), y, 1e-6f, "gelu");
        AssertClose(x.Select((v, i) => dy[i] * ActivationKernels.GeluDerivativeScalar(v)).ToArray(), dx, 1e-6f, "gelu'");
    }

    [TestMethod]
    public void LargeGeluRunsInParallelChunksWithoutChangingValues()
    {
        float[] x = RandomArray(100_001, 9, 5f), y = new float[x.Length];
        ActivationKernels.GeluForward(x, y);
        AssertClose(x.Select(ActivationKernels.GeluScalar).ToArray(), y, 1e-6f, "gelu over chunks");
    }

    [TestMethod]
    public void ErfIsAccurateTo3e7()
    {
        // Reference: the Maclaurin series in double (converges quickly for |x| <= 3), erf(x) -> 1 beyond.
        for (double step = -3; step <= 3; step += 0.01)
        {
            double x = (float)step, term = x, sum = x;
            for (int n = 1; n < 80; n++)
            {
                term *= -x * x / n;
                sum += term / (2 * n + 1);
            }
            double erf = 2 / Math.Sqrt(Math.PI) * sum;
            double error = Math.Abs(erf - ActivationKernels.Erf((float)x));
            Assert.IsTrue(error <= 3e-7, $"erf({x}) off by {error}");
        }
        Assert.AreEqual(1f, ActivationKernels.Erf(10f), 1e-7);
        Assert.AreEqual(-1f, ActivationKernels.Erf(-10f), 1e-7);
    }

    [TestMethod]
    public void SoftmaxOfAllMaskedRowIsZeroAndExtremeValuesAreStable()
    {
        float[] y = new float[3];
        ActivationKernels.SoftmaxRow([float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity], y);
        CollectionAssert.AreEqual(new float[3], y);
        ActivationKernels.SoftmaxRow([1000f, 1000f, float.NegativeInfinity], y);
        CollectionAssert.AreEqual(new[] { 0.5f, 0.5f, 0f }, y);
        float[] logY = new float[2];
        ActivationKernels.LogSoftmaxRows([-1000f, 1000f], 1, 2, logY);
        Assert.AreEqual(0f, logY[1]);
        Assert.AreEqual(-2000f, logY[0]);
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void TransposeMatchesIndexDefinition(string path)
    {
        KernelPaths.Requested = KernelPaths.Parse(path);
        foreach ((int rows, int cols) in new[] { (1, 1), (33, 65), (64, 31), (5, 100), (16, 24) })
        {
            float[] source = RandomArray(2 * rows * cols, rows * cols), destination = RandomArray(source.Length, 3);
            float[] before = (float[])destination.Clone();
            LayoutKernels.Transpose(source, 2, rows, cols, destination, accumulate: true);
            for (int b = 0; b < 2; b++)
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                    {
                        int to = b * rows * cols + c * rows + r;
                        Assert.AreEqual(before[to] + source[b * rows * cols + r * cols + c], destination[to], 1e-6f);
                    }
            LayoutKernels.Transpose(source, 2, rows, cols, destination);
            for (int b = 0; b < 2; b++)
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                        Assert.AreEqual(source[b * rows * cols + r * cols + c], destination[b * rows * cols + c * rows + r]);
        }
    }

    [TestMethod]
    public void GroupNormWithOneGroupEqualsLayerNormOfTheFlattenedItem()
    {
        float[] x = RandomArray(2 * 3 * 10, 11);
        float[] viaGroup = new float[x.Length], viaLayer = new float[x.Length];
        NormKernels.GroupNormForward(x, 2, 3, 10, 1, [], [], 1e-5f, viaGroup, new float[2], new float[2]);
        NormKernels.LayerNormForward(x, 2, 30, [], [], 1e-5f, viaLayer, new float[2], new float[2]);
        AssertClose(viaLayer, viaGroup, 1e-6f, "group norm with one group");
    }
}
