using System.IO.Compression;
using System.Text.Json;
using Wav2Vec2.Decoding;

namespace Wav2Vec2.Tests.Decoding;

[TestClass]
public sealed class NGramLanguageModelTests : TempDirectoryTest
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "lm", name);

    [TestMethod]
    [DataRow("small.arpa")]
    [DataRow("no-unk.arpa")]
    [DataRow("fortunes-3gram.arpa.gz")]
    public void SentenceScoresEqualThePythonReference(string file)
    {
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Fixture("reference_scores.json")));
        float unknown = reference.RootElement.GetProperty("unknown_log10").GetSingle();
        var model = NGramLanguageModel.Load(Fixture(file), unknown);
        int checkedSentences = 0;
        foreach (JsonProperty sentence in reference.RootElement.GetProperty("scores").GetProperty(file).EnumerateObject())
        {
            float actual = model.ScoreSentence(sentence.Name.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            Assert.AreEqual(sentence.Value.GetDouble(), actual, 1e-4, $"{file}: '{sentence.Name}'");
            checkedSentences++;
        }
        Assert.IsGreaterThan(5, checkedSentences);
    }

    [TestMethod]
    public void ReadsCountsVocabularyAndSpecialWords()
    {
        var model = NGramLanguageModel.Load(Fixture("small.arpa"));
        Assert.AreEqual(3, model.Order);
        CollectionAssert.AreEqual(new long[] { 8, 9, 7 }, model.NGramCounts.ToArray());
        Assert.AreEqual(8, model.Vocabulary.Count);
        Assert.AreEqual(3, model.WordId("A"));
        Assert.AreEqual(-1, model.WordId("ZZZ"));
        // <unk> stands for every unknown word, in context too: "<unk> A" is a listed bigram.
        LanguageModelState state = model.BeginSentence();
        model.Score(state, -1, out LanguageModelState afterUnknown);
        Assert.AreEqual(-1.1f, model.Score(afterUnknown, model.WordId("A"), out _), 1e-6f);
        // Without history a word scores its unigram probability.
        Assert.AreEqual(-2.0f, model.Score(model.NullContext(), model.WordId("ABA"), out _), 1e-6f);
        Assert.IsGreaterThan(0L, model.MemoryBytes);
    }

    [TestMethod]
    public void GzipAndPlainFilesGiveTheSameModel()
    {
        string gz = Path.Combine(TempDirectory, "small.arpa.gz");
        using (var output = new GZipStream(File.Create(gz), CompressionLevel.Optimal))
            output.Write(File.ReadAllBytes(Fixture("small.arpa")));
        var plain = NGramLanguageModel.Load(Fixture("small.arpa"));
        var compressed = NGramLanguageModel.Load(gz);
        foreach (string sentence in new[] { "A B A", "AB BA ABA", "ZZZ A" })
            Assert.AreEqual(plain.ScoreSentence(sentence.Split(' ')), compressed.ScoreSentence(sentence.Split(' ')));
    }

    [TestMethod]
    public void UnknownWordsWithoutUnkScoreTheConfiguredProbability()
    {
        var model = NGramLanguageModel.Load(Fixture("no-unk.arpa"), unknownWordLog10Probability: -7f);
        // <s> X: -0.2, Q: -7 (history forgotten), Y: unigram -0.6, </s> | Y: -0.25.
        Assert.AreEqual(-8.05f, model.ScoreSentence(["X", "Q", "Y"]), 1e-5f);
        Assert.ThrowsExactly<ArgumentException>(() => NGramLanguageModel.Load(Fixture("no-unk.arpa"), float.NaN));
    }

    private const string Header = "\\data\\\nngram 1=3\nngram 2=2\n\n\\1-grams:\n-1 <s> -0.5\n-1 </s>\n-0.5 A -0.2\n\n";

    [TestMethod]
    [DataRow("no header at all\n", "no \\data\\ header", 0)]
    [DataRow("\\data\\\nngram 1=x\n", "bad n-gram count line 'ngram 1=x'", 2)]
    [DataRow("\\data\\\nngram 1=3\nngram 3=2\n", "count for order 3 where order 2 was expected", 3)]
    [DataRow("\\data\\\nngram 1=3\nngram 2=2\n\n\\1-grams:\n-1 <s> -0.5 7\n", "a 1-gram line has a probability, 1 word and an optional back-off weight, but this one has 4 fields", 6)]
    [DataRow("\\data\\\nngram 1=3\nngram 2=2\n\n\\1-grams:\n-1 <s> -0.5\nhigh </s>\n", "probability 'high' is not a number", 7)]
    [DataRow(Header + "\\2-grams:\n-0.1 <s> A\n-0.2 A </s> -0.1\n\\end\\\n", "a 2-gram line has a probability, 2 words, but this one has 4 fields", 12)]
    [DataRow(Header + "\\2-grams:\n-0.1 <s> A\n-0.2 A\n\\end\\\n", "but this one has 2 fields", 12)]
    [DataRow(Header + "\\2-grams:\n-0.1 <s> A\n-0.2 A B\n\\end\\\n", "'B' is not among the 1-grams", 12)]
    [DataRow(Header + "\\2-grams:\n-0.1 <s> A\n\\end\\\n", "found 1 2-grams but the header declares 2", 12)]
    [DataRow(Header + "\\2-grams:\n-0.1 <s> A\n-0.1 A </s>\n-0.1 A A\n\\end\\\n", "more 2-grams than the 2 the header declares", 13)]
    [DataRow(Header + "\\3-grams:\n-0.1 <s> A A\n", "expected '\\2-grams:', found '\\3-grams:'", 10)]
    [DataRow("\\data\\\nngram 1=1\nngram 2=0\n\n\\1-grams:\n-1 <s> x\n", "back-off weight 'x' is not a number", 6)]
    [DataRow(Header + "\\2-grams:\n-0.1 <s> A\n-0.1 A </s>\n", "the file ends inside the 2-grams", 12)]
    [DataRow(Header + "\\2-grams:\n-0.1 <s> A\n-0.3\tA  <s>\n\n\\end\\\n", "2", -1)]
    [DataRow("\\data\\\r\nngram 1=2\r\n\\1-grams:\r\n-1 <s>\r\n-1\t</s>\r\n\\end\\\r\n", "1", -1)]
    [DataRow(Header + "\\2-grams:\n-0.1 <s> A\n-0.1 <s>  A\n\\end\\\n", "this 2-gram repeats line 11", 12)]
    [DataRow("\\data\\\nngram 1=2\n\n\\1-grams:\n-1 <s>\n-1 <s>\n\\end\\\n", "the 1-gram '<s>' is listed twice", 6)]
    [DataRow("\\data\\\nngram 1=2\nngram 2=1\nngram 3=1\n\n\\1-grams:\n-1 <s> -0.5\n-1 </s>\n\n\\2-grams:\n-0.1 <s> </s> </s>\n",
        "back-off weight '</s>' is not a number (or the line is not a 2-gram)", 11)]
    public void MalformedFilesNameTheLine(string text, string expected, int line)
    {
        string path = Path.Combine(TempDirectory, "bad.arpa");
        File.WriteAllText(path, text);
        if (line < 0)
        {
            Assert.AreEqual(expected, NGramLanguageModel.Load(path).Order.ToString());   // well-formed control cases
            return;
        }
        var error = Assert.ThrowsExactly<InvalidDataException>(() => NGramLanguageModel.Load(path));
        StringAssert.StartsWith(error.Message, line > 0 ? $"{path}: line {line}: " : $"{path}: ");
        StringAssert.Contains(error.Message, expected);
    }
}
