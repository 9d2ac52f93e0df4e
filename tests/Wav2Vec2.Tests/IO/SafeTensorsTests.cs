using Wav2Vec2.IO;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.IO;

[TestClass]
public sealed class SafeTensorsTests : TempDirectoryTest
{
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
