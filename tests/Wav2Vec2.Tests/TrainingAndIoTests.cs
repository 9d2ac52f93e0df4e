using Wav2Vec2.IO;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;
using static Wav2Vec2.Tests.TestSupport;

namespace Wav2Vec2.Tests;

[TestClass]
public sealed class TrainingAndIoTests : TempDirectoryTest
{
    [TestMethod]
    public void AdamWMatchesTorchOverThreeSteps()
    {
        var p = new Parameter("p", 10);
        EngineFixture.Read("adamw.p0").Span.CopyTo(p.Span);
        var optimizer = new AdamW([p], new AdamWOptions { LearningRate = 1e-2f, Beta1 = 0.9f, Beta2 = 0.98f, Epsilon = 1e-6f, WeightDecay = 0.01f });
        for (int step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            p.Grad = EngineFixture.Read($"adamw.grad{step}");
            optimizer.Update();
            AssertClose(EngineFixture.Read($"adamw.p{step + 1}").Span, p.Span, 1e-6f, $"AdamW step {step + 1}");
        }
    }

    [TestMethod]
    public void AdamWStateRoundTripsSoThatResumingEqualsContinuing()
    {
        (Parameter p, AdamW optimizer) Make()
        {
            var parameter = new Parameter("p", 37);
            RandomTensor(1, 37).Span.CopyTo(parameter.Span);
            return (parameter, new AdamW([parameter]));
        }
        void Step(Parameter parameter, AdamW optimizer, int seed)
        {
            parameter.Grad = RandomTensor(seed, 37);
            optimizer.Update();
        }
        var (p1, o1) = Make();
        for (int s = 0; s < 4; s++)
            Step(p1, o1, 10 + s);

        var (p2, o2) = Make();
        Step(p2, o2, 10);
        Step(p2, o2, 11);
        var state = new MemoryStream();
        o2.Save(state);
        float[] weights = p2.ToArray();
        var (p3, o3) = Make();
        weights.CopyTo(p3.Span);
        state.Position = 0;
        o3.Load(state);
        Assert.AreEqual(2, o3.Step);
        Step(p3, o3, 12);
        Step(p3, o3, 13);
        CollectionAssert.AreEqual(p1.ToArray(), p3.ToArray());
    }

    [TestMethod]
    public void AdamWRejectsStateOfAnotherModel()
    {
        var state = new MemoryStream();
        new AdamW([new Parameter("a", 3)]).Save(state);
        state.Position = 0;
        var error = Assert.ThrowsExactly<InvalidDataException>(() => new AdamW([new Parameter("b", 4)]).Load(state));
        StringAssert.Contains(error.Message, "has 3 elements, expected 4");
        Assert.ThrowsExactly<InvalidDataException>(() => new AdamW([new Parameter("b", 4)]).Load(new MemoryStream([1, 2, 3])));
    }

    [TestMethod]
    public void GradientClippingMatchesTorch()
    {
        var a = new Parameter("a", 4, 3) { Grad = EngineFixture.Read("clip.g1") };
        var b = new Parameter("b", 5) { Grad = EngineFixture.Read("clip.g2") };
        double norm = GradientClipping.ClipByNorm([a, b], 1.5);
        Assert.AreEqual(EngineFixture.Read("clip.norm").ToScalar(), norm, 1e-5);
        AssertClose(EngineFixture.Read("clip.out1").Span, a.Grad!.Span, 1e-6f, "clipped a");
        AssertClose(EngineFixture.Read("clip.out2").Span, b.Grad!.Span, 1e-6f, "clipped b");
    }

    [TestMethod]
    public void SafeTensorsRoundTripKeepsNamesShapesValuesAndMetadata()
    {
        string path = Path.Combine(TempDirectory, "model.safetensors");
        Tensor a = RandomTensor(1, 2, 3), b = RandomTensor(2, 5), scalar = Tensor.Scalar(4f);
        SafeTensorsWriter.Write(path, [("a", a), ("nested.b", b), ("s", scalar)], new Dictionary<string, string> { ["format"] = "pt" });
        using var file = SafeTensorsFile.Open(path);
        Assert.AreEqual("pt", file.Metadata["format"]);
        CollectionAssert.AreEqual(a.ToArray(), file.Read("a").ToArray());
        CollectionAssert.AreEqual(new[] { 5 }, file.Read("nested.b").ShapeArray);
        Assert.AreEqual(0, file.Read("s").Rank);
        Assert.AreEqual(0, Directory.GetFiles(TempDirectory, "*.tmp-*").Length, "no temporary file left behind");
        Assert.ThrowsExactly<KeyNotFoundException>(() => file.Read("missing"));
    }

    [TestMethod]
    public void SafeTensorsConvertsHalfAndBFloat16()
    {
        // Two tensors written by hand: F16 [1.5, -2] and BF16 [3.0].
        byte[] f16 = [.. BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)1.5f)), .. BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)(-2f)))];
        byte[] bf16 = BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(3f) >> 16));
        string header = """{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}""";
        string path = WriteRaw(header, [.. f16, .. bf16]);
        using var file = SafeTensorsFile.Open(path);
        CollectionAssert.AreEqual(new[] { 1.5f, -2f }, file.Read("h").ToArray());
        CollectionAssert.AreEqual(new[] { 3f }, file.Read("b").ToArray());
    }

    [TestMethod]
    [DataRow("""{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", "inconsistent shape/offsets")]
    [DataRow("""{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}""", "unsupported dtype I64")]
    [DataRow("""{"x":{"dtype":"F32","shape":[1]}}""", "malformed header entry")]
    [DataRow("""not json""", "not valid JSON")]
    [DataRow("""{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "inconsistent shape/offsets")]
    public void MalformedSafeTensorsFailWithAClearMessage(string header, string expected)
    {
        string path = WriteRaw(header, new byte[8]);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensorsFile.Open(path));
        StringAssert.Contains(error.Message, expected);
    }

    [TestMethod]
    public void TruncatedOrTinyFilesAreNotSafeTensors()
    {
        string tiny = Path.Combine(TempDirectory, "tiny.safetensors");
        File.WriteAllBytes(tiny, [1, 2, 3]);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => SafeTensorsFile.Open(tiny)).Message, "only 3 bytes");
        string huge = Path.Combine(TempDirectory, "huge.safetensors");
        File.WriteAllBytes(huge, [.. BitConverter.GetBytes(1000UL), .. "{}"u8.ToArray()]);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => SafeTensorsFile.Open(huge)).Message, "exceeds the file");
    }

    private string WriteRaw(string header, byte[] data)
    {
        byte[] headerBytes = System.Text.Encoding.UTF8.GetBytes(header);
        string path = Path.Combine(TempDirectory, Guid.NewGuid().ToString("N") + ".safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)headerBytes.Length), .. headerBytes, .. data]);
        return path;
    }
}
