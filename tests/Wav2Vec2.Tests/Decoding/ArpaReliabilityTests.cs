using System.Diagnostics;
using System.IO.Compression;
using Wav2Vec2.Decoding;

namespace Wav2Vec2.Tests.Decoding;

/// <summary>Issue 24: probabilities above 1, counts the file cannot hold and corrupt gzip data are one-line errors
/// naming the file.</summary>
[TestClass]
public sealed class ArpaReliabilityTests : TempDirectoryTest
{
    private const string Arpa = "\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-1.0\t<s>\n-0.5\ta\n-0.7\t</s>\n\n\\2-grams:\n-0.2\t<s> a\n\n\\end\\\n";

    [TestMethod]
    public void APositiveLogProbabilityIsRefusedWithItsLine()
    {
        string path = Write("lm.arpa", Arpa.Replace("-0.5\ta", "+5.0\ta"));
        var error = Assert.ThrowsExactly<InvalidDataException>(() => NGramLanguageModel.Load(path));
        Assert.AreEqual($"{path}: line 7: log10 probability +5.0 is above 0 (a probability above 1)", error.Message);
    }

    [TestMethod]
    public void ACountTheFileCannotHoldFailsBeforeAllocating()
    {
        string path = Write("lm.arpa", Arpa.Replace("ngram 2=1", "ngram 2=1\nngram 3=2000000000"));
        var clock = Stopwatch.StartNew();
        var error = Assert.ThrowsExactly<InvalidDataException>(() => NGramLanguageModel.Load(path));
        Assert.IsLessThan(5.0, clock.Elapsed.TotalSeconds);
        StringAssert.StartsWith(error.Message, $"{path}: line 4: 2000000000 3-grams cannot fit in a file that holds at most");
    }

    [TestMethod]
    public void CorruptGzipDataNamesTheFile()
    {
        var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(Arpa, 50))));
        byte[] bytes = memory.ToArray();
        bytes[10] = 0xFF;   // the first deflate block header: an invalid block type
        string path = Path.Combine(TempDirectory, "lm.arpa.gz");
        File.WriteAllBytes(path, bytes);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => NGramLanguageModel.Load(path));
        StringAssert.StartsWith(error.Message, $"{path}: line 0: the compressed data is corrupt");
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(TempDirectory, name);
        File.WriteAllText(path, text);
        return path;
    }
}
