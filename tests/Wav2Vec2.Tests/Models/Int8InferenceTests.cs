using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

/// <summary>Int8 inference (<see cref="Module.UsePrecision"/>): accuracy against fp32, and training left in fp32.</summary>
[TestClass]
public sealed class Int8InferenceTests
{
    [TestCleanup]
    public void Restore() => Wav2Vec2.Kernels.Int8Gemm.Requested = null;

    public static IEnumerable<object[]> Paths() =>
        [[nameof(Wav2Vec2.Kernels.Int8Path.Avx512Vnni)], [nameof(Wav2Vec2.Kernels.Int8Path.AvxVnni)], [nameof(Wav2Vec2.Kernels.Int8Path.Avx512)], [nameof(Wav2Vec2.Kernels.Int8Path.Avx2)]];

    [TestMethod]
    [DynamicData(nameof(Paths))]
    public void TheBundledModelInInt8KeepsNearlyEveryFrameAndItsCharacterErrorRate(string pathName)
    {
        var path = Enum.Parse<Wav2Vec2.Kernels.Int8Path>(pathName);
        if (!Wav2Vec2.Kernels.Int8Gemm.Supported(path))
            Assert.Inconclusive($"this CPU does not run the {path} int8 kernel");
        Wav2Vec2.Kernels.Int8Gemm.Requested = path;
        var fp32 = Wav2Vec2ForCtc.FromPretrained(ExamplesPath("models", "tiny-en"));
        var int8 = Wav2Vec2ForCtc.FromPretrained(ExamplesPath("models", "tiny-en"));
        int8.UsePrecision(Precision.Int8);
        AudioClip audio = AudioFile.Read(ExamplesPath("data", "speech.wav"));
        Tensor expected = fp32.Logits(audio), actual = int8.Logits(audio);
        var greedy = new GreedyCtcDecoder(fp32.Tokenizer!);
        int frames = expected.Size(0);
        int agree = greedy.BestPath(expected.Span, frames).Zip(greedy.BestPath(actual.Span, frames)).Count(p => p.First == p.Second);
        Assert.IsGreaterThanOrEqualTo(0.98, agree / (double)frames, $"argmax agreement ({agree} of {frames} frames)");
        CollectionAssert.AreNotEqual(expected.ToArray(), actual.ToArray(), "the int8 path did not run");

        const string reference = "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG SPEECH REPRESENTATIONS ARE LEARNED FROM RAW AUDIO";
        // One character is 1.1 points of this 93-character clip: the test set's figure is in docs/performance.md.
        int fp32Errors = EditCounts.Characters(reference, new SpeechRecognizer(fp32).Transcribe(audio)).Errors;
        int int8Errors = EditCounts.Characters(reference, new SpeechRecognizer(int8).Transcribe(audio)).Errors;
        Assert.IsLessThanOrEqualTo(fp32Errors + 1, int8Errors, "at most one more character error than fp32");
    }

    [TestMethod]
    public void EveryHiddenStateOfAFamilyFixtureStaysAlignedWithFp32()
    {
        foreach (string name in new[] { "post_ln_group", "stable_layer", "wavlm", "hubert_post_ln", "data2vec_audio" })
        {
            var fp32 = Wav2Vec2Model.FromPretrained(FixturePath("models", name));
            var int8 = Wav2Vec2Model.FromPretrained(FixturePath("models", name));
            fp32.Train(false);
            int8.Train(false);
            int8.UsePrecision(Precision.Int8);
            Tensor audio = TestSupport.RandomTensor(3, 1, 8000);
            Tensor[] expected = fp32.Forward(audio, new Wav2Vec2ForwardOptions { OutputHiddenStates = true }).HiddenStates.ToArray();
            Tensor[] actual = int8.Forward(audio, new Wav2Vec2ForwardOptions { OutputHiddenStates = true }).HiddenStates.ToArray();
            for (int layer = 0; layer < expected.Length; layer++)
                Assert.IsGreaterThan(0.99, Cosine(expected[layer].ToArray(), actual[layer].ToArray()), $"{name} hidden state {layer}");
        }
    }

    [TestMethod]
    [DataRow(1, 1, 0)]       // the feature encoder's layers
    [DataRow(4, 1, 3)]       // the positional convolution's shape: grouped, padded
    [DataRow(2, 2, 2)]       // strided and padded
    public void AConvolutionInInt8IsCloseToFp32(int groups, int stride, int padding)
    {
        var conv = new Conv1d(24, 32, 7, new RandomSource(4), stride: stride, padding: padding, groups: groups);
        Tensor x = TestSupport.RandomTensor(5, 2, 40, 24);                     // (batch, frames, channels)
        conv.Train(false);
        float[] fp32 = conv.ForwardChannelsLast(x, gelu: true).ToArray();
        conv.UsePrecision(Precision.Int8);
        float[] int8 = conv.ForwardChannelsLast(x, gelu: true).ToArray();
        CollectionAssert.AreNotEqual(fp32, int8, "int8 ran");
        double error = 0, norm = 0;
        for (int i = 0; i < fp32.Length; i++)
            (error, norm) = (error + Math.Pow(fp32[i] - int8[i], 2), norm + Math.Pow(fp32[i], 2));
        Assert.IsLessThan(0.02, Math.Sqrt(error / norm), "relative error");
    }

    [TestMethod]
    public void ALayerTrainsInFp32AndQuantisesItsNewWeightsAfterwards()
    {
        var layer = new Linear(24, 20, new RandomSource(1));
        layer.UsePrecision(Precision.Int8);
        Tensor x = TestSupport.RandomTensor(2, 5, 24);
        layer.Train(false);
        float[] int8 = layer.Forward(x).ToArray(), fp32 = Ops.Linear(x, layer.Weight, layer.Bias).ToArray();
        CollectionAssert.AreNotEqual(fp32, int8, "evaluation runs in int8");
        TestSupport.AssertClose(fp32, int8, 0.02f, "int8 linear");

        using (new Tape())
            CollectionAssert.AreEqual(fp32, layer.Forward(x).ToArray(), "a recorded forward runs in fp32");
        layer.Train(true);
        layer.Weight.Span.Fill(0.5f);                                          // an update
        layer.Train(false);
        float[] updated = Ops.Linear(x, layer.Weight, layer.Bias).ToArray();
        TestSupport.AssertClose(updated, layer.Forward(x).ToArray(), 0.02f, "int8 after the update");
    }

    internal static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
            (dot, na, nb) = (dot + (double)a[i] * b[i], na + (double)a[i] * a[i], nb + (double)b[i] * b[i]);
        return dot / Math.Sqrt(na * nb);
    }
}
