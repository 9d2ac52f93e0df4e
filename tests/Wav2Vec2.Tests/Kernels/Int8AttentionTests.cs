using Wav2Vec2.Kernels;
using Wav2Vec2.Tests.Models;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Tests.Kernels;

/// <summary>
/// Attention with int8 products (inference at Precision.Int8): the int8 paths that read the same quantisation agree to
/// the bit, the result stays close to fp32 attention (padded keys, WavLM's bias and a query with no key included), and
/// its pieces equal their plain twins: the strided and transposed weight quantisers, the quantised softmax. Sets the
/// process-wide int8 path.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class Int8AttentionTests
{
    private static readonly AttentionShape Shape = new(Batch: 2, Length: 37, Heads: 3, HeadDim: 16);

    [TestCleanup]
    public void Restore()
    {
        Int8Gemm.Requested = null;
        Parallelism.DegreeOfParallelism = Environment.ProcessorCount;
    }

    // Paths that quantise alike: VNNI and scalar read 8-bit activations and weights, AVX-512BW and AVX2 7-bit ones.
    public static IEnumerable<object[]> PathPairs() =>
        [[nameof(Int8Path.Avx512Vnni), nameof(Int8Path.Scalar)], [nameof(Int8Path.AvxVnni), nameof(Int8Path.Scalar)], [nameof(Int8Path.Avx512), nameof(Int8Path.Avx2)]];

    [TestMethod]
    [DynamicData(nameof(PathPairs))]
    public void PathsReadingTheSameQuantisationGiveTheSameAttentionToTheBit(string first, string second)
    {
        float[] expected = Int8Attention(Supported(second), threads: 1);
        float[] actual = Int8Attention(Supported(first), threads: 2);
        CollectionAssert.AreEqual(expected, actual);
    }

    [TestMethod]
    public void Int8AttentionIsCloseToFloatAttentionWithPaddedKeysBiasAndAQueryWithNoKey()
    {
        (float[] q, float[] k, float[] v, bool[] padding, float[] bias) = Inputs();
        var expected = new float[q.Length];
        AttentionKernels.Forward(q, k, v, padding, Shape, 0.25f, DropoutMask.None, [], expected, bias);
        foreach (Int8Path path in Enum.GetValues<Int8Path>().Where(Int8Gemm.Supported))
        {
            float[] actual = Int8Attention(path, threads: 2);
            Assert.IsGreaterThan(0.999, Int8InferenceTests.Cosine(expected, actual), $"{path}: cosine to fp32");
            double error = Math.Sqrt(expected.Zip(actual, (e, a) => (double)(e - a) * (e - a)).Sum() / expected.Sum(e => (double)e * e));
            Assert.IsLessThan(0.03, error, $"{path}: relative error to fp32");
        }
        // Batch item 1 pads every key: its queries have no key and give zeros, as in fp32.
        float[] noKey = Int8Attention(Int8Path.Scalar, threads: 1);
        Assert.IsTrue(noKey.Skip(Shape.Length * Shape.ModelDim).All(x => x == 0f), "queries with every key padded");
    }

    [TestMethod]
    public unsafe void StridedAndTransposedQuantisationEqualQuantisingTheGatheredMatrix()
    {
        // 37 rows of 21 values, 40 apart: column 3 all zeros, column 7 holding NaN; reused arrays from a larger matrix.
        const int rows = 37, columns = 21, stride = 40;
        float[] w = TestSupport.RandomArray(rows * stride, 3);
        for (int r = 0; r < rows; r++)
            w[r * stride + 3] = 0f;
        w[5 * stride + 7] = float.NaN;
        float[] gathered = [.. Enumerable.Range(0, rows * columns).Select(i => w[i / columns * stride + i % columns])];
        float[] transposed = [.. Enumerable.Range(0, rows * columns).Select(i => w[i % rows * stride + i / rows])];
        Int8Weights larger = Int8Weights.Quantize(TestSupport.RandomArray(64 * 64, 4), 64, 64);
        foreach (int levels in new[] { Int8Weights.FullRange, Int8Weights.ReducedRange })
            fixed (float* pw = w)
            {
                AssertSame(Int8Weights.Quantize(gathered, rows, columns, levels),
                    Int8Weights.Quantize(pw, rows, columns, stride, levels, larger), $"strided, {levels} levels");
                AssertSame(Int8Weights.Quantize(transposed, columns, rows, levels),
                    Int8Weights.QuantizeTransposed(pw, rows, columns, stride, levels, larger), $"transposed, {levels} levels");
                AssertSame(Int8Weights.Quantize(transposed, columns, rows, levels),
                    Int8Weights.QuantizeTransposed(pw, rows, columns, stride, levels, null), $"transposed, new arrays, {levels} levels");
            }
    }

    [TestMethod]
    public void TheQuantisedSoftmaxIsTheSoftmaxOnAFixedScale()
    {
        float[] x = TestSupport.RandomArray(37, 5, 4f);
        x[6] = float.NegativeInfinity;                                         // a padded key
        var q = new byte[37];
        float sum = ActivationKernels.QuantizedSoftmaxRow(x, q, 127);
        float max = x.Max();
        double expectedSum = x.Sum(v => Math.Exp(v - max));
        Assert.AreEqual(expectedSum, sum, 1e-4 * expectedSum, "sum of the exponentials");
        for (int i = 0; i < x.Length; i++)
            Assert.AreEqual(127 * Math.Exp(x[i] - max), q[i], 0.51, $"element {i}");
        Assert.AreEqual(0, q[6]);
        Assert.AreEqual(127, q[Array.IndexOf(x, max)]);

        Assert.AreEqual(0f, ActivationKernels.QuantizedSoftmaxRow(Enumerable.Repeat(float.NegativeInfinity, 20).ToArray(), q, 127));
        Assert.IsTrue(q.Take(20).All(b => b == 0), "a row with no finite entry gives zeros");
        x[3] = float.NaN;
        Assert.IsTrue(float.IsNaN(ActivationKernels.QuantizedSoftmaxRow(x, q, 127)), "NaN reaches the sum, hence the output");
    }

    private static float[] Int8Attention(Int8Path path, int threads)
    {
        (float[] q, float[] k, float[] v, bool[] padding, float[] bias) = Inputs();
        Int8Gemm.Requested = path;
        Parallelism.DegreeOfParallelism = threads;
        var output = new float[q.Length];
        AttentionKernels.ForwardInt8(q, k, v, padding, Shape, 0.25f, output, bias);
        return output;
    }

    // Batch item 0: its last 5 keys padded; item 1: every key padded. A bias on every score.
    private static (float[] Q, float[] K, float[] V, bool[] Padding, float[] Bias) Inputs()
    {
        int n = Shape.Batch * Shape.Length * Shape.ModelDim;
        bool[] padding = [.. Enumerable.Range(0, Shape.Batch * Shape.Length).Select(i => i >= Shape.Length - 5)];
        return (TestSupport.RandomArray(n, 1, 2f), TestSupport.RandomArray(n, 2, 2f), TestSupport.RandomArray(n, 3),
            padding, TestSupport.RandomArray((int)Shape.ProbabilityCount, 4, 0.5f));
    }

    private static void AssertSame(Int8Weights expected, Int8Weights actual, string what)
    {
        Assert.AreEqual((expected.Rows, expected.Columns, expected.Range), (actual.Rows, actual.Columns, actual.Range), what);
        var (qe, qa) = (new sbyte[expected.Rows * expected.Columns], new sbyte[actual.Rows * actual.Columns]);
        var (se, sa) = (new float[expected.Rows], new float[actual.Rows]);
        expected.Unpack(qe, se);
        actual.Unpack(qa, sa);
        CollectionAssert.AreEqual(qe, qa, $"{what}: values");
        CollectionAssert.AreEqual(se, sa, $"{what}: scales");
        CollectionAssert.AreEqual(expected.RowSums.Take(expected.Rows).ToArray(), actual.RowSums.Take(actual.Rows).ToArray(), $"{what}: row sums");
        // The padding columns of every row are zeros (the activations' padding bytes meet them).
        for (int r = 0; r < actual.Rows; r++)
            for (int p = actual.Columns; p < actual.PaddedColumns; p++)
                Assert.AreEqual(0, actual.Packed[r / Int8Weights.PanelWidth * Int8Weights.PanelWidth * actual.PaddedColumns
                    + (p >> 2) * 4 * Int8Weights.PanelWidth + r % Int8Weights.PanelWidth * 4 + (p & 3)], $"{what}: padding of row {r}");
    }

    private static Int8Path Supported(string name)
    {
        var path = Enum.Parse<Int8Path>(name);
        if (!Int8Gemm.Supported(path))
            Assert.Inconclusive($"this CPU does not run the {path} int8 kernel");
        return path;
    }
}
