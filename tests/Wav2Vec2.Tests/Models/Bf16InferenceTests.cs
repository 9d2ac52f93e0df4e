using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.IO;
using Wav2Vec2.Kernels;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Tests.Models;

/// <summary>bf16 inference (<c>UsePrecision(Precision.BFloat16)</c>) and bf16 model directories, down to the kernel.</summary>
[TestClass]
[DoNotParallelize]
public sealed class Bf16InferenceTests : TempDirectoryTest
{
    private static readonly AudioClip Speech = AudioFile.Read(ExamplesPath("data", "speech.wav"));

    [TestCleanup]
    public void Restore()
    {
        KernelPaths.Requested = KernelPath.Auto;
        Parallelism.DegreeOfParallelism = Environment.ProcessorCount;
    }

    public static IEnumerable<object[]> Paths() => [.. TestSupport.VectorPaths(), [nameof(KernelPath.Scalar)]];

    [TestMethod]
    [DynamicData(nameof(Paths))]
    public void TheBf16ProductIsTheFp32ProductOfTheWidenedWeightsToTheBit(string path)
    {
        KernelPaths.Requested = KernelPaths.Parse(path);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 33, 17), (37, 100, 70), (130, 70, 300) })
        {
            float[] a = TestSupport.RandomArray(m * k, seed: m), bias = TestSupport.RandomArray(n, seed: 3);
            ushort[] b = [.. TestSupport.RandomArray(k * n, seed: n).Select(BFloat16.Narrow)];
            var widened = new float[b.Length];
            BFloat16.Widen(b, widened);
            float[] expected = new float[m * n], actual = new float[m * n];
            Gemm.Sgemm(false, false, m, n, k, 1f, a, k, widened, n, 0f, expected, n, bias, gelu: true);
            Gemm.SgemmBf16(m, n, k, a, k, b, n, actual, n, bias, gelu: true);
            CollectionAssert.AreEqual(expected, actual, $"{m} x {n} x {k}");
        }
    }

    [TestMethod]
    public void NarrowingRoundsToNearestEvenAndWideningIsExact()
    {
        Assert.AreEqual((ushort)0x3F80, BFloat16.Narrow(1f));
        Assert.AreEqual((ushort)0x3F80, BFloat16.Narrow(BitConverter.UInt32BitsToSingle(0x3F808000)), "a tie goes to the even mantissa");
        Assert.AreEqual((ushort)0x3F82, BFloat16.Narrow(BitConverter.UInt32BitsToSingle(0x3F818000)), "a tie goes to the even mantissa");
        Assert.AreEqual((ushort)0x3F81, BFloat16.Narrow(BitConverter.UInt32BitsToSingle(0x3F808001)), "above the tie rounds up");
        Assert.AreEqual((ushort)0x7F80, BFloat16.Narrow(float.PositiveInfinity));
        Assert.AreEqual((ushort)0x7F80, BFloat16.Narrow(float.MaxValue), "past the largest bf16: infinity");
        Assert.IsTrue(float.IsNaN(BitConverter.UInt32BitsToSingle((uint)BFloat16.Narrow(BitConverter.UInt32BitsToSingle(0x7F800001)) << 16)),
            "a NaN whose payload lies in the dropped bits stays NaN");
        ushort[] values = [.. Enumerable.Range(0, 37).Select(i => (ushort)(i * 1777))];
        var widened = new float[values.Length];
        BFloat16.Widen(values, widened);
        for (int i = 0; i < values.Length; i++)
            Assert.AreEqual((uint)values[i] << 16, BitConverter.SingleToUInt32Bits(widened[i]), $"value {i} (vector and tail)");
    }

    [TestMethod]
    public void TheBundledModelInBf16KeepsItsOutputs()
    {
        var fp32 = Wav2Vec2ForCtc.FromPretrained(ExamplesPath("models", "tiny-en"));
        var bf16 = Wav2Vec2ForCtc.FromPretrained(ExamplesPath("models", "tiny-en"));
        bf16.UsePrecision(Precision.BFloat16);
        float[] expected = fp32.Logits(Speech).ToArray(), actual = bf16.Logits(Speech).ToArray();
        CollectionAssert.AreNotEqual(expected, actual, "bf16 ran");
        Assert.IsGreaterThan(0.9999, Int8InferenceTests.Cosine(expected, actual));
        Assert.AreEqual(new SpeechRecognizer(fp32).Transcribe(Speech), new SpeechRecognizer(bf16).Transcribe(Speech));
        bf16.Train(true);
        Assert.IsNull(bf16.HeldPrecision, "quantised in memory, the fp32 weights stay and training runs fp32");
    }

    [TestMethod]
    public void ABf16DirectoryHoldsHalfTheLinearBytesAndComputesWhatTheInMemoryBf16ModelDid()
    {
        var model = Wav2Vec2ForCtc.FromPretrained(ExamplesPath("models", "tiny-en"));
        model.UsePrecision(Precision.BFloat16);
        float[] expected = model.Logits(Speech).ToArray();
        string directory = Path.Combine(TempDirectory, "bf16");
        model.SavePretrained(directory, Precision.BFloat16);
        using (var file = SafeTensorsFile.Open(Path.Combine(directory, "model.safetensors")))
        {
            Assert.AreEqual(SafeTensorsDType.BF16, file.Entries["wav2vec2.encoder.layers.1.feed_forward.output_dense.weight"].DType);
            Assert.AreEqual(SafeTensorsDType.F32, file.Entries["wav2vec2.feature_extractor.conv_layers.1.conv.weight"].DType, "convolutions stay fp32");
            Assert.AreEqual(SafeTensorsDType.F32, file.Entries["wav2vec2.encoder.layers.1.feed_forward.output_dense.bias"].DType);
        }

        var loaded = Wav2Vec2ForCtc.FromPretrained(directory);
        Assert.AreEqual(Precision.BFloat16, loaded.Config.WeightsPrecision);
        Assert.AreEqual(Precision.BFloat16, loaded.HeldPrecision);
        CollectionAssert.AreEqual(expected, loaded.Logits(Speech).ToArray(), "the stored bf16 values are the ones the in-memory model ran");
        StringAssert.Contains(Assert.ThrowsExactly<HeldWeightsException>(() => loaded.Train(true)).Message, "is held in bf16 only");
        Assert.ThrowsExactly<HeldWeightsException>(() => loaded.UsePrecision(Precision.Int8));
        Assert.ThrowsExactly<HeldWeightsException>(() => loaded.SavePretrained(Path.Combine(TempDirectory, "x"), Precision.Int8));
        loaded.SavePretrained(Path.Combine(TempDirectory, "again"));
        CollectionAssert.AreEqual(expected, Wav2Vec2ForCtc.FromPretrained(Path.Combine(TempDirectory, "again")).Logits(Speech).ToArray());
    }

    [TestMethod]
    public void ACheckpointMerelyStoredInBf16LoadsAsFp32AndTrains()
    {
        var model = new Wav2Vec2ForCtc(TinyConfig(), new RandomSource(4));
        string path = Path.Combine(TempDirectory, "plain");
        model.SavePretrained(path);
        string weights = Path.Combine(path, "model.safetensors");
        List<StoredTensor> tensors;
        using (var file = SafeTensorsFile.Open(weights))
            tensors = [.. file.Entries.Values.Select(e => StoredTensor.BFloat16(e.Name, [.. file.Read(e.Name).ToArray().Select(BFloat16.Narrow)], e.Shape))];
        SafeTensorsWriter.Write(weights, tensors);
        var loaded = Wav2Vec2ForCtc.FromPretrained(path);
        Assert.IsNull(loaded.HeldPrecision);
        loaded.Train(true);
    }
}
