using Wav2Vec2.Kernels;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Tests.Kernels;

/// <summary>
/// The int8 product: every SIMD path equals the scalar twin to the bit (integer accumulation is exact), and the
/// quantised product stays close to the fp32 one. Sets the process-wide int8 path and thread count.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class Int8GemmTests
{
    [TestCleanup]
    public void Restore()
    {
        Int8Gemm.Requested = null;
        Parallelism.DegreeOfParallelism = Environment.ProcessorCount;
    }

    public static IEnumerable<object[]> SimdPaths() =>
        [[nameof(Int8Path.Avx512Vnni)], [nameof(Int8Path.Avx512)], [nameof(Int8Path.AvxVnni)], [nameof(Int8Path.Avx2)]];

    [TestMethod]
    [DynamicData(nameof(SimdPaths))]
    public void EveryPathEqualsTheScalarTwinToTheBit(string pathName)
    {
        Int8Path path = Supported(pathName);
        int seed = 0;
        // Rows around the 4-, 6- and 12-row tiles, columns around the 16-wide panel, k around the 4- and 8-byte groups.
        foreach (int m in new[] { 1, 2, 3, 5, 6, 7, 13, 50 })
            foreach (int n in new[] { 1, 15, 16, 17, 48 })
                foreach (int k in new[] { 1, 3, 4, 5, 8, 17, 64 })
                    foreach (bool gelu in new[] { false, true })
                    {
                        float[] expected = Product(Int8Path.Scalar, m, n, k, gelu, seed, Range(path));
                        float[] actual = Product(path, m, n, k, gelu, seed++, Range(path));
                        CollectionAssert.AreEqual(expected, actual, $"{path} {m}x{n}x{k} gelu={gelu}");
                    }
    }

    [TestMethod]
    [DynamicData(nameof(SimdPaths))]
    public void OverlappingSegmentedRowsAndTwoThreadsGiveTheSingleThreadedScalarResult(string pathName)
    {
        Int8Path path = Supported(pathName);
        // A convolution's patches: 3 frames of 40 bytes (one segment each, with its own range) starting every 2 frames;
        // big enough to split over threads.
        const int m = 301, n = 200, frame = 40, frames = 2 * m + 1;
        var random = new Random(7);
        byte[] data = RandomBytes(random, frames * frame, Levels(path));
        Int8Weights[] taps = [.. Enumerable.Range(0, 3).Select(j => Int8Weights.Quantize(TestSupport.RandomArray(n * frame, 8 + j), n, frame, Range(path)))];
        var rows = new QuantizedRows(data, m, 2 * frame, TestSupport.RandomArray(frames, 5, 0.05f).Select(Math.Abs).ToArray(),
            [.. Enumerable.Range(0, frames).Select(f => f % (Levels(path) + 1))], Segments: 3, SegmentStride: frame, ScaleStride: 2,
            Levels: Levels(path));
        float[] bias = TestSupport.RandomArray(n, 9);

        Int8Gemm.Requested = Int8Path.Scalar;
        Parallelism.DegreeOfParallelism = 1;
        var expected = new float[m * n];
        Int8Gemm.Multiply(rows, taps, expected, n, bias, gelu: false);
        Int8Gemm.Requested = path;
        Parallelism.DegreeOfParallelism = 2;
        var actual = new float[m * n];
        Int8Gemm.Multiply(rows, taps, actual, n, bias, gelu: false);
        CollectionAssert.AreEqual(expected, actual);
    }

    [TestMethod]
    [DynamicData(nameof(SimdPaths))]
    public void LongRowsCrossingRowBlocksAndWideProductsOnTwoThreadsMatch(string pathName)
    {
        Int8Path path = Supported(pathName);
        Parallelism.DegreeOfParallelism = 2;
        // 4000-byte rows: blocks of 60 rows; 40 x 300: the two threads take column panels.
        foreach ((int m, int n, int k) in new[] { (100, 33, 4000), (40, 300, 512) })
            CollectionAssert.AreEqual(Product(Int8Path.Scalar, m, n, k, false, 5, Range(path)), Product(path, m, n, k, false, 5, Range(path)),
                $"{m}x{n}x{k}");
    }

    [TestMethod]
    [DataRow(nameof(Int8Path.Avx512))]
    [DataRow(nameof(Int8Path.Avx2))]
    public void TheLargestReducedActivationsAndWeightsSumWithoutSaturating(string pathName)
    {
        Int8Path path = Supported(pathName);
        // Every int16 sum of four products at its extreme, 4 x 127 x (+-64): one output channel of +64 weights, one of -64.
        const int m = 13, n = 2, k = 72;
        var w = new float[n * k];
        Array.Fill(w, 1f, 0, k);
        Array.Fill(w, -1f, k, k);
        var data = Enumerable.Repeat((byte)ActivationQuantizer.ReducedLevels, m * k).ToArray();
        var rows = new QuantizedRows(data, m, k, Enumerable.Repeat(1f, m).ToArray(), new int[m], Levels: ActivationQuantizer.ReducedLevels);
        Int8Gemm.Requested = path;
        var c = new float[m * n];
        Int8Gemm.Multiply(rows, [Int8Weights.Quantize(w, n, k)], c, n, [], false);
        for (int i = 0; i < m; i++)
        {
            Assert.AreEqual(127f * k, c[i * n], $"row {i}, +64 weights");
            Assert.AreEqual(-127f * k, c[i * n + 1], $"row {i}, -64 weights");
        }
    }

    [TestMethod]
    public void TheQuantisedProductIsCloseToTheFloatProduct()
    {
        const int m = 40, n = 64, k = 768;
        float[] x = TestSupport.RandomArray(m * k, 1), w = TestSupport.RandomArray(n * k, 2, 0.05f), bias = TestSupport.RandomArray(n, 3);
        for (int i = 0; i < x.Length; i += 7)
            x[i] = Math.Abs(x[i]) * 3;                                        // skewed rows: the zero point matters
        var expected = new float[m * n];
        Gemm.Sgemm(false, true, m, n, k, 1f, x, k, w, k, 0f, expected, n, bias);
        float[] actual = QuantisedLinear(x, w, bias, m, n, k);
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            error += Math.Pow(expected[i] - actual[i], 2);
            norm += Math.Pow(expected[i], 2);
        }
        // 8-bit activations and weights, or the vpmaddubsw paths' 7-bit ones (about twice the rounding of each).
        double bound = Int8Gemm.ActivationLevels == ActivationQuantizer.FullLevels ? 0.01 : 0.02;
        Assert.IsLessThan(bound, Math.Sqrt(error / norm), $"relative error of the int8 product on the {Int8Gemm.Effective} path");
    }

    [TestMethod]
    public void AZeroWeightRowGivesTheBiasAndANonFiniteInputRowGivesNaNOnlyThere()
    {
        const int m = 3, n = 17, k = 9;
        float[] w = TestSupport.RandomArray(n * k, 1);
        Array.Clear(w, 5 * k, k);                                              // output channel 5: all-zero weights
        float[] x = TestSupport.RandomArray(m * k, 2), bias = TestSupport.RandomArray(n, 3);
        x[k + 4] = float.NaN;                                                  // row 1
        float[] y = QuantisedLinear(x, w, bias, m, n, k);
        Assert.AreEqual(bias[5], y[5]);
        Assert.AreEqual(bias[5], y[2 * n + 5]);
        Assert.IsTrue(y.Skip(n).Take(n).All(float.IsNaN), "the NaN row");
        Assert.IsTrue(y.Take(n).Concat(y.Skip(2 * n)).All(float.IsFinite), "the other rows");
    }

    [TestMethod]
    [DataRow(nameof(Int8Path.Avx512))]
    [DataRow(nameof(Int8Path.Avx2))]
    public void FullRangeWeightsOrActivationsNeverReachTheSaturatingPaths(string pathName)
    {
        Int8Path path = Supported(pathName);
        // Rows of 255 against weights of 127 (or 64) would saturate the int16 sums; the product falls back.
        const int m = 7, n = 16, k = 64;
        var data = Enumerable.Repeat((byte)255, m * k).ToArray();
        var rows = new QuantizedRows(data, m, k, Enumerable.Repeat(1f, m).ToArray(), new int[m]);
        Int8Gemm.Requested = path;
        foreach (int range in new[] { Int8Weights.FullRange, Int8Weights.ReducedRange })
        {
            var w = Int8Weights.Quantize(Enumerable.Repeat(1f, n * k).ToArray(), n, k, range);
            var c = new float[m * n];
            Int8Gemm.Multiply(rows, [w], c, n, [], false);
            Assert.IsTrue(c.All(v => v == 255f * range * k * (1f / range)), $"weights in [-{range}, {range}]: got {c[0]}");
        }
    }

    [TestMethod]
    public void AWeightRowHoldingInfinityGivesNaNInItsColumnOnly()
    {
        const int m = 2, n = 4, k = 8;
        float[] w = TestSupport.RandomArray(n * k, 1);
        w[2 * k + 3] = float.PositiveInfinity;                                // output channel 2
        float[] y = QuantisedLinear(TestSupport.RandomArray(m * k, 2), w, new float[n], m, n, k);
        for (int i = 0; i < y.Length; i++)
            Assert.AreEqual(i % n == 2, float.IsNaN(y[i]), $"element {i}");
    }

    [TestMethod]
    public void ActivationsRoundHalfToEvenWithZeroExactAndTheVectorLoopEqualsTheScalarTail()
    {
        (float scale, int zero) = ActivationQuantizer.Range(-1f, 3f);
        Assert.AreEqual(4f / 255f, scale);
        Assert.AreEqual(64, zero);                                             // round(63.75)
        (float allPositive, int noZero) = ActivationQuantizer.Range(0.5f, 2f);  // the range reaches down to 0
        Assert.AreEqual(2f / 255f, allPositive);
        Assert.AreEqual(0, noZero);
        Assert.IsTrue(float.IsNaN(ActivationQuantizer.Range(float.NaN, 1f).Scale));

        float[] x = TestSupport.RandomArray(37, 4, 2f);
        x[3] = 0f;
        x[4] = 100f;                                                           // clamped to 255
        x[20] = -100f;                                                         // clamped to 0
        var q = new byte[37];
        ActivationQuantizer.Quantize(x, 0.01f, 128, q);
        for (int i = 0; i < x.Length; i++)
            Assert.AreEqual((byte)Math.Clamp(MathF.Round(x[i] * (1f / 0.01f)) + 128, 0, 255), q[i], $"element {i}");
        Assert.AreEqual(128, q[3]);
        // Ties round to even in the vector loop (16 at a time) and in the scalar tail alike.
        float[] halves = [.. Enumerable.Range(0, 20).Select(i => i + 0.5f)];
        var ties = new byte[20];
        ActivationQuantizer.Quantize(halves, 1f, 0, ties);
        CollectionAssert.AreEqual(halves.Select(h => (byte)MathF.Round(h, MidpointRounding.ToEven)).ToArray(), ties);

        // The reduced levels: [0, 127] in the vector loop and the tail.
        (float reducedScale, int reducedZero) = ActivationQuantizer.Range(-1f, 3f, ActivationQuantizer.ReducedLevels);
        Assert.AreEqual(4f / 127f, reducedScale);
        Assert.AreEqual(32, reducedZero);                                      // round(31.75)
        ActivationQuantizer.Quantize(x, 0.01f, 64, q, ActivationQuantizer.ReducedLevels);
        for (int i = 0; i < x.Length; i++)
            Assert.AreEqual((byte)Math.Clamp(MathF.Round(x[i] * (1f / 0.01f)) + 64, 0, 127), q[i], $"element {i}, 127 levels");
    }

    [TestMethod]
    public void ARowsBoundsComeFromOnePassWithNaNAndInfinityKept()
    {
        float[] x = TestSupport.RandomArray(37, 6, 3f);
        x[30] = 7.5f;                                                          // in the vector part
        x[35] = -9f;                                                           // in the scalar tail
        Assert.AreEqual((-9f, 7.5f), ActivationQuantizer.Bounds(x));
        Assert.AreEqual((x.Take(5).Min(), x.Take(5).Max()), ActivationQuantizer.Bounds(x.AsSpan(0, 5)));
        foreach (int at in new[] { 3, 36 })
        {
            float[] withNaN = (float[])x.Clone();
            withNaN[at] = float.NaN;
            (float lo, float hi) = ActivationQuantizer.Bounds(withNaN);
            Assert.IsTrue(float.IsNaN(lo) && float.IsNaN(hi), $"NaN at {at}");
        }
        x[12] = float.NegativeInfinity;
        Assert.AreEqual(float.NegativeInfinity, ActivationQuantizer.Bounds(x).Lo);
    }

    // A SIMD path runs only where the CPU has its instructions (there is no emulation of VNNI).
    private static Int8Path Supported(string name)
    {
        var path = Enum.Parse<Int8Path>(name);
        if (!Int8Gemm.Supported(path))
            Assert.Inconclusive($"this CPU does not run the {path} int8 kernel");
        return path;
    }

    // The weight range a path reads: the vpmaddubsw paths need the reduced one; VNNI and scalar take the full one.
    private static int Range(Int8Path path) => path is Int8Path.Avx512 or Int8Path.Avx2 ? Int8Weights.ReducedRange : Int8Weights.FullRange;

    // The activation levels a path reads: 127 for the vpmaddubsw paths, 255 for VNNI and scalar.
    private static int Levels(Int8Path path) => path is Int8Path.Avx512 or Int8Path.Avx2 ? ActivationQuantizer.ReducedLevels : ActivationQuantizer.FullLevels;

    private static byte[] RandomBytes(Random random, int count, int levels) =>
        [.. Enumerable.Range(0, count).Select(_ => (byte)random.Next(levels + 1))];

    // The product on `path` of random activations at the levels the paths under test read (`range` sets them too).
    private static float[] Product(Int8Path path, int m, int n, int k, bool gelu, int seed, int range)
    {
        int levels = range == Int8Weights.ReducedRange ? ActivationQuantizer.ReducedLevels : ActivationQuantizer.FullLevels;
        Int8Gemm.Requested = path;
        var random = new Random(seed);
        int padded = Int8Weights.Padded(k);
        byte[] data = RandomBytes(random, m * padded, levels);
        var scales = Enumerable.Range(0, m).Select(i => 0.01f + 0.001f * i).ToArray();
        var zeros = Enumerable.Range(0, m).Select(i => (i * 37) % (levels + 1)).ToArray();
        var w = Int8Weights.Quantize(TestSupport.RandomArray(n * k, seed + 1000), n, k, range);
        var c = new float[m * n];
        Int8Gemm.Multiply(new QuantizedRows(data, m, padded, scales, zeros, Levels: levels), [w], c, n, TestSupport.RandomArray(n, seed), gelu);
        return c;
    }

    // What the int8 Linear does (Ops.Int8Linear): each row quantised with its own range, then the product.
    private static float[] QuantisedLinear(float[] x, float[] w, float[] bias, int m, int n, int k)
    {
        int padded = Int8Weights.Padded(k);
        QuantizedRows rows = ActivationQuantizer.QuantizeRows(x, m, k, padded, new byte[m * padded]);
        var y = new float[m * n];
        Int8Gemm.Multiply(rows, [Int8Weights.Quantize(w, n, k)], y, n, bias, gelu: false);
        return y;
    }
}
