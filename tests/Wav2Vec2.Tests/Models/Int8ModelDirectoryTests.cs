using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.IO;
using Wav2Vec2.Kernels;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

/// <summary>
/// Int8 model directories (<c>SavePretrained(directory, Precision.Int8)</c>): what is stored, what a loaded model holds
/// and computes, and what it refuses.
/// </summary>
[TestClass]
public sealed class Int8ModelDirectoryTests : TempDirectoryTest
{
    private static readonly AudioClip Speech = AudioFile.Read(ExamplesPath("data", "speech.wav"));

    [TestCleanup]
    public void Restore() => Int8Gemm.Requested = null;

    // The scalar twin runs the full range on every machine, as the AVX-VNNI kernel does; the others run 7 bits.
    public static IEnumerable<object[]> Paths() => [.. Int8InferenceTests.Paths(), [nameof(Int8Path.Scalar)]];

    [TestMethod]
    [DynamicData(nameof(Paths))]
    public void ALoadedInt8ModelHoldsOnlyInt8WeightsAndComputesWhatTheInMemoryInt8ModelDid(string pathName)
    {
        var path = Enum.Parse<Int8Path>(pathName);
        if (!Int8Gemm.Supported(path))
            Assert.Inconclusive($"this CPU does not run the {path} int8 kernel");
        Int8Gemm.Requested = path;
        var model = Wav2Vec2ForCtc.FromPretrained(ExamplesPath("models", "tiny-en"));
        model.UsePrecision(Precision.Int8);
        float[] expected = model.Logits(Speech).ToArray();
        string directory = Path.Combine(TempDirectory, "int8");
        model.SavePretrained(directory, Precision.Int8);

        var loaded = Wav2Vec2ForCtc.FromPretrained(directory);
        Assert.AreEqual(Precision.Int8, loaded.Config.WeightsPrecision);
        Assert.AreEqual(Precision.Int8, loaded.Precision);
        Assert.AreEqual(Precision.Int8, loaded.HeldPrecision);
        var held = loaded.NamedParameters().Where(p => p.Parameter.HeldPrecision == Precision.Int8).Select(p => p.Name).ToList();
        CollectionAssert.Contains(held, "wav2vec2.encoder.layers.0.feed_forward.intermediate_dense.weight");
        CollectionAssert.Contains(held, "wav2vec2.feature_extractor.conv_layers.1.conv.weight");
        CollectionAssert.Contains(held, "lm_head.weight");
        CollectionAssert.DoesNotContain(held, "wav2vec2.feature_extractor.conv_layers.0.conv.weight", "one input channel: fp32");
        Assert.IsFalse(held.Any(name => name.Contains("pos_conv_embed", StringComparison.Ordinal)), "the positional conv stays fp32");

        float[] actual = loaded.Logits(Speech).ToArray();
        string transcript = new SpeechRecognizer(model).Transcribe(Speech), loadedTranscript = new SpeechRecognizer(loaded).Transcribe(Speech);
        if (Int8Gemm.WeightRange == Int8Weights.FullRange)
        {
            CollectionAssert.AreEqual(expected, actual, "the stored int8 values are the ones the in-memory model ran");
            Assert.AreEqual(transcript, loadedTranscript);
        }
        else
        {
            // 7-bit paths requantise the stored 8-bit rows (a second rounding), then read 7-bit activations, which the
            // rounding difference can move by a step: close, not equal.
            Assert.IsGreaterThan(0.9998, Int8InferenceTests.Cosine(expected, actual));
            var greedy = new Wav2Vec2.Decoding.GreedyCtcDecoder(loaded.Tokenizer!);
            int frames = expected.Length / loaded.Config.VocabSize;
            int agree = greedy.BestPath(expected, frames).Zip(greedy.BestPath(actual, frames)).Count(p => p.First == p.Second);
            Assert.IsGreaterThanOrEqualTo(0.98, agree / (double)frames, $"argmax agreement ({agree} of {frames} frames)");
        }
        Assert.IsTrue(File.Exists(Path.Combine(directory, "vocab.json")), "the vocabulary is saved beside the weights");
    }

    [TestMethod]
    public void TheInt8FileStoresTheLinearAndConvolutionWeightsInAQuarterOfTheBytes()
    {
        var model = Wav2Vec2ForCtc.FromPretrained(ExamplesPath("models", "tiny-en"));
        model.SavePretrained(Path.Combine(TempDirectory, "fp32"));
        model.SavePretrained(Path.Combine(TempDirectory, "int8"), Precision.Int8);
        using var fp32 = SafeTensorsFile.Open(Path.Combine(TempDirectory, "fp32", "model.safetensors"));
        using var int8 = SafeTensorsFile.Open(Path.Combine(TempDirectory, "int8", "model.safetensors"));
        SafeTensorsEntry weight = int8.Entries["wav2vec2.encoder.layers.0.attention.q_proj.weight"];
        Assert.AreEqual(SafeTensorsDType.I8, weight.DType);
        CollectionAssert.AreEqual(fp32.Entries[weight.Name].Shape, weight.Shape);
        CollectionAssert.AreEqual(new[] { weight.Shape[0] }, int8.Entries[weight.Name + "_scale"].Shape);
        SafeTensorsEntry conv = int8.Entries["wav2vec2.feature_extractor.conv_layers.2.conv.weight"];
        Assert.AreEqual(SafeTensorsDType.I8, conv.DType);
        CollectionAssert.AreEqual(new[] { conv.Shape[0], conv.Shape[2] }, int8.Entries[conv.Name + "_scale"].Shape, "a scale per channel and tap");
        Assert.AreEqual(SafeTensorsDType.F32, int8.Entries["wav2vec2.encoder.layer_norm.weight"].DType);
        Assert.DoesNotContain("quantization_config", File.ReadAllText(Path.Combine(TempDirectory, "fp32", "config.json")),
            "an fp32 config.json has no quantization_config, not even null (transformers would take it for a quantised model)");

        // Every stored int8 weight is within half a step of the fp32 one.
        float[] w = fp32.Read(weight.Name).ToArray(), scales = int8.Read(weight.Name + "_scale").ToArray();
        sbyte[] q = int8.ReadInt8(weight.Name);
        int columns = weight.Shape[1];
        for (int i = 0; i < w.Length; i++)
            Assert.IsLessThanOrEqualTo(0.5f * scales[i / columns] * 1.0001f, MathF.Abs(w[i] - scales[i / columns] * q[i]), $"element {i}");
        long quantisable = model.Int8Weights().Sum(entry => (long)model.NamedParameters().First(p => p.Name == entry.Name).Parameter.Length);
        Assert.AreEqual(DataBytes(fp32, _ => true) - 3 * quantisable, DataBytes(int8, name => !name.EndsWith("_scale", StringComparison.Ordinal)),
            "each quantised weight takes 1 byte instead of 4");
    }

    [TestMethod]
    public void AnInt8ModelRefusesToTrainRunFp32OrSaveFp32AndSavesInt8Again()
    {
        string directory = SavedInt8(new Wav2Vec2ForCtc(TinyConfig(), new RandomSource(3)));
        var loaded = Wav2Vec2ForCtc.FromPretrained(directory);
        if (!Int8Gemm.Accelerated)
            Assert.Inconclusive("without an int8 kernel the weights are dequantised to fp32");
        StringAssert.Contains(Assert.ThrowsExactly<HeldWeightsException>(() => loaded.Train(true)).Message, "cannot train");
        StringAssert.Contains(Assert.ThrowsExactly<HeldWeightsException>(() => loaded.UsePrecision(Precision.Float32)).Message,
            "is held in int8 only");
        Assert.ThrowsExactly<HeldWeightsException>(() => loaded.SavePretrained(Path.Combine(TempDirectory, "again"), Precision.Float32));
        var weight = loaded.NamedParameters().First(p => p.Name == "lm_head.weight").Parameter;
        StringAssert.Contains(Assert.ThrowsExactly<HeldWeightsException>(() => weight.ToArray()).Message, "held in int8 only");
        Assert.IsFalse(loaded.Training, "a refused switch leaves the model as it was");

        float[] first = loaded.Logits(Speech).ToArray();
        loaded.SavePretrained(Path.Combine(TempDirectory, "again"));
        var reloaded = Wav2Vec2ForCtc.FromPretrained(Path.Combine(TempDirectory, "again"));
        Assert.AreEqual(Precision.Int8, reloaded.Config.WeightsPrecision);
        CollectionAssert.AreEqual(first, reloaded.Logits(Speech).ToArray(), "saving what it holds and loading it again changes nothing");
    }

    [TestMethod]
    public void ANonFiniteWeightStoredInInt8IsStillNamed()
    {
        var model = new Wav2Vec2ForCtc(TinyConfig(), new RandomSource(5));
        model.NamedParameters().First(p => p.Name == "wav2vec2.encoder.layers.1.attention.q_proj.weight").Parameter.Span[17] = float.NaN;
        var loaded = Wav2Vec2ForCtc.FromPretrained(SavedInt8(model));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => loaded.Logits(Speech)).Message,
            "non-finite weights: wav2vec2.encoder.layers.1.attention.q_proj.weight (");
    }

    [TestMethod]
    public void AnInt8TensorWithoutScalesOrWhereTheModelKeepsFp32OrOfTheWrongSizeIsRefusedByName()
    {
        string directory = SavedInt8(new Wav2Vec2ForCtc(TinyConfig(), new RandomSource(8)));
        string weights = Path.Combine(directory, "model.safetensors");
        const string Scale = "wav2vec2.encoder.layers.0.attention.k_proj.weight_scale";

        Rewrite(weights, tensors => tensors.Where(t => t.Name != Scale));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2ForCtc.FromPretrained(directory)).Message,
            "wav2vec2.encoder.layers.0.attention.k_proj.weight is stored in int8 without its scales");

        Rewrite(weights, tensors => tensors.Append(StoredTensor.Float32(Scale, new Tensor(3))));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2ForCtc.FromPretrained(directory)).Message,
            "3 scales do not fit");

        directory = SavedInt8(new Wav2Vec2ForCtc(TinyConfig(), new RandomSource(8)));
        Rewrite(Path.Combine(directory, "model.safetensors"), tensors => tensors.Select(t => t.Name == "wav2vec2.encoder.layer_norm.weight"
            ? StoredTensor.Int8(t.Name, new sbyte[16], [16]) : t).Append(StoredTensor.Float32("wav2vec2.encoder.layer_norm.weight_scale", new Tensor(16))));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2ForCtc.FromPretrained(directory)).Message,
            "encoder.layer_norm.weight is stored in int8, which this model keeps in fp32");
    }

    [TestMethod]
    public void AnotherLibrarysQuantizationConfigIsRefusedByField()
    {
        string directory = SavedInt8(new Wav2Vec2ForCtc(TinyConfig(), new RandomSource(9)));
        string config = Path.Combine(directory, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"w2v2\"", "\"bitsandbytes\"", StringComparison.Ordinal));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2ForCtc.FromPretrained(directory)).Message,
            "quantization_config is quant_method \"bitsandbytes\"");
    }

    [TestMethod]
    public void StoringAndPackingAreInverseAndMatchQuantisingFp32Directly()
    {
        float[] w = TestSupport.RandomArray(12 * 5 * 3, seed: 4);
        w[7] = 0;
        (sbyte[] values, float[] scales) = Int8Convolution.QuantizeStored(w, 12, 5, 3, groups: 2);
        Int8Gemm.Requested = Int8Path.Scalar;
        Int8Weights[][] fromStored = Int8Convolution.FromStored(values, scales, 12, 5, 3, 2);
        Int8Weights[][] direct = Int8Convolution.QuantizeTaps(w, 12, 5, 3, 2);
        for (int g = 0; g < 2; g++)
            for (int j = 0; j < 3; j++)
            {
                CollectionAssert.AreEqual(direct[g][j].Packed, fromStored[g][j].Packed, $"group {g} tap {j}");
                CollectionAssert.AreEqual(direct[g][j].Scales, fromStored[g][j].Scales, $"group {g} tap {j}");
            }
        (sbyte[] unpackedValues, float[] unpackedScales) = Int8Convolution.Unpack(fromStored, 12, 5, 3);
        CollectionAssert.AreEqual(values, unpackedValues);
        CollectionAssert.AreEqual(scales, unpackedScales);
    }

    private string SavedInt8(Wav2Vec2ForCtc model)
    {
        string directory = Path.Combine(TempDirectory, $"int8-{Guid.NewGuid():N}");
        model.SavePretrained(directory, Precision.Int8);
        return directory;
    }

    private static long DataBytes(SafeTensorsFile file, Func<string, bool> which) =>
        file.Entries.Values.Where(e => which(e.Name)).Sum(e => e.End - e.Begin);

    // Reads every tensor of a safetensors file as stored, edits the list, writes it back.
    private static void Rewrite(string path, Func<IEnumerable<StoredTensor>, IEnumerable<StoredTensor>> edit)
    {
        List<StoredTensor> tensors;
        using (var file = SafeTensorsFile.Open(path))
            tensors = [.. file.Entries.Values.Select(e => e.DType == SafeTensorsDType.I8
                ? StoredTensor.Int8(e.Name, file.ReadInt8(e.Name), e.Shape) : StoredTensor.Float32(e.Name, file.Read(e.Name)))];
        SafeTensorsWriter.Write(path, edit(tensors).ToList());
    }
}
