using Wav2Vec2.Kernels;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Tests.Kernels;

/// <summary>SGEMM paths against the scalar twin; sets the process-wide kernel path and thread count.</summary>
[TestClass]
[DoNotParallelize]
public sealed class GemmTests
{
    [TestCleanup]
    public void Restore()
    {
        KernelPaths.Requested = KernelPath.Auto;
        Parallelism.DegreeOfParallelism = Environment.ProcessorCount;
    }

    public static IEnumerable<object[]> VectorPaths() => TestSupport.VectorPaths();

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void EverySquareSizeUpTo64MatchesScalarTwin(string path)
    {
        KernelPaths.Requested = KernelPaths.Parse(path);
        for (int size = 0; size <= 64; size++)
            CompareWithReference(size, size, size, false, false, 1f, 0f, seed: size);
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void AllSmallShapesAndTransposesMatchScalarTwin(string path)
    {
        KernelPaths.Requested = KernelPaths.Parse(path);
        int[] sizes = [0, 1, 2, 5, 6, 7, 15, 16, 17, 33];
        int seed = 0;
        foreach (int m in sizes)
            foreach (int n in sizes)
                foreach (int k in new[] { 0, 1, 3, 17 })
                    foreach (bool ta in new[] { false, true })
                        foreach (bool tb in new[] { false, true })
                            CompareWithReference(m, n, k, ta, tb, 1f, 0f, seed++);
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void OddLargeShapesCrossingBlockBoundariesMatch(string path)
    {
        KernelPaths.Requested = KernelPaths.Parse(path);
        CompareWithReference(97, 301, 263, false, false, 1f, 0f, 1);
        CompareWithReference(131, 67, 809, true, false, 1f, 0f, 2);  // two k blocks
        CompareWithReference(211, 129, 77, false, true, 1f, 0f, 3);  // m crosses the 48 MC block
        CompareWithReference(13, 2101, 9, true, true, 1f, 0f, 4);   // n crosses the 1024 NC block
        CompareWithReference(50, 70, 1601, false, true, 1f, 0f, 5); // three k blocks of 534
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void BiasIsAddedOnceAndGeluAppliedToTheFinalValue(string path)
    {
        KernelPaths.Requested = KernelPaths.Parse(path);
        int seed = 20;
        // k = 1000: two k blocks; n = 48: the 6 x 16 tile on the AVX-512 path; n = 130: packed A with a partial panel.
        foreach ((int m, int n, int k) in new[] { (7, 45, 1000), (13, 33, 5), (1, 1, 1), (29, 48, 70), (14, 130, 9) })
            foreach (float beta in new[] { 0f, 1f, 0.5f })
                foreach (bool gelu in new[] { false, true })
                    CompareWithReference(m, n, k, false, true, 1.5f, beta, seed++, withBias: true, gelu: gelu);
    }

    [TestMethod]
    [DynamicData(nameof(VectorPaths))]
    public void SegmentedAndOverlappingOperandsMatchScalarTwin(string path)
    {
        // Columns in runs of `length` every `stride` floats (a channels-last convolution's unfolded input), rows that
        // overlap (lda smaller than the row), both operands, every transpose, runs crossing 8-step transposes.
        KernelPaths.Requested = KernelPaths.Parse(path);
        int seed = 40;
        foreach ((int length, int stride, int ld) in new[] { (5, 9, 14), (16, 24, 20), (3, 3, 2), (48, 80, 40) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    int m = 29, n = 37, k = 51;
                    var segments = new ColumnSegments(length, stride);
                    int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
                    float[] a = TestSupport.RandomArray((int)((aRows - 1) * ld + segments.Offset(aCols - 1) + 1), seed++);
                    float[] b = TestSupport.RandomArray((int)((bRows - 1) * ld + segments.Offset(bCols - 1) + 1), seed++);
                    float[] c = new float[m * n], expected = new float[m * n];
                    Gemm.Sgemm(ta, tb, m, n, k, 1f, a, ld, b, ld, 0f, c, n, default, segments, segments);
                    GemmReference.Sgemm(ta, tb, m, n, k, 1f, a, ld, b, ld, 0f, expected, n, default, segments, segments);
                    TestSupport.AssertClose(expected, c, 2e-6f * (k + 4), $"segmented {length}/{stride} ld={ld} tA={ta} tB={tb}");
                }
    }

    [TestMethod]
    public void AlphaAndBetaFollowBlasSemantics()
    {
        CompareWithReference(23, 41, 19, false, false, 0.5f, 1f, 7);
        CompareWithReference(23, 41, 19, true, true, -2f, 0.25f, 8);
        CompareWithReference(23, 41, 300, false, true, 1f, -1f, 9);
        CompareWithReference(10, 10, 0, false, false, 1f, 0.5f, 10);  // k = 0 only scales C
    }

    [TestMethod]
    public void BetaZeroIgnoresNaNInOutput()
    {
        float[] a = TestSupport.RandomArray(6 * 5, 1), b = TestSupport.RandomArray(5 * 18, 2);
        float[] c = Enumerable.Repeat(float.NaN, 6 * 18).ToArray();
        Gemm.Sgemm(false, false, 6, 18, 5, 1f, a, 5, b, 18, 0f, c, 18);
        Assert.IsFalse(c.Any(float.IsNaN));
    }

    [TestMethod]
    public void LeadingDimensionsLargerThanRowsAreHonoured()
    {
        // A is a 7x5 window of a 7x9 buffer, B a 5x11 window of 5x13, C a 7x11 window of 7x20 that must keep its margin.
        float[] a = TestSupport.RandomArray(7 * 9, 3), b = TestSupport.RandomArray(5 * 13, 4);
        float[] c = Enumerable.Repeat(42f, 7 * 20).ToArray(), expected = (float[])c.Clone();
        Gemm.Sgemm(false, false, 7, 11, 5, 1f, a, 9, b, 13, 0f, c, 20);
        GemmReference.Sgemm(false, false, 7, 11, 5, 1f, a, 9, b, 13, 0f, expected, 20);
        TestSupport.AssertClose(expected, c, 1e-5f, "strided gemm");
        Assert.AreEqual(42f, c[11], "margin of C was overwritten");
    }

    [TestMethod]
    public void ResultIsIdenticalForOneAndTwoThreads()
    {
        float[] a = TestSupport.RandomArray(200 * 300, 5), b = TestSupport.RandomArray(300 * 180, 6);
        float[] one = new float[200 * 180], two = new float[200 * 180];
        Parallelism.DegreeOfParallelism = 1;
        Gemm.Sgemm(false, false, 200, 180, 300, 1f, a, 300, b, 180, 0f, one, 180);
        Parallelism.DegreeOfParallelism = 2;
        Gemm.Sgemm(false, false, 200, 180, 300, 1f, a, 300, b, 180, 0f, two, 180);
        CollectionAssert.AreEqual(one, two);
    }

    [TestMethod]
    public void TooShortOperandsAreRejectedWithTheOperandName()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            Gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[15], 4, new float[16], 4, 0f, new float[16], 4));
        StringAssert.Contains(error.Message, "A needs 16 elements");
        error = Assert.ThrowsExactly<ArgumentException>(() =>
            Gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[16], 4, new float[16], 3, 0f, new float[16], 4));
        StringAssert.Contains(error.Message, "leading dimension of B");
    }

    private static void CompareWithReference(int m, int n, int k, bool transA, bool transB, float alpha, float beta, int seed,
        bool withBias = false, bool gelu = false)
    {
        float[] a = TestSupport.RandomArray(m * k, seed), b = TestSupport.RandomArray(k * n, seed + 1000);
        float[] c = TestSupport.RandomArray(m * n, seed + 2000), expected = (float[])c.Clone();
        float[] bias = withBias ? TestSupport.RandomArray(n, seed + 3000) : [];
        int lda = transA ? m : k, ldb = transB ? k : n;
        Gemm.Sgemm(transA, transB, m, n, k, alpha, a, Math.Max(1, lda), b, Math.Max(1, ldb), beta, c, Math.Max(1, n), bias,
            gelu: gelu);
        GemmReference.Sgemm(transA, transB, m, n, k, alpha, a, Math.Max(1, lda), b, Math.Max(1, ldb), beta, expected,
            Math.Max(1, n), bias, gelu: gelu);
        // float32 accumulation error grows with k; the reference accumulates in double
        TestSupport.AssertClose(expected, c, 2e-6f * (k + 4), $"gemm {m}x{n}x{k} tA={transA} tB={transB} path={KernelPaths.Requested}");
    }
}
