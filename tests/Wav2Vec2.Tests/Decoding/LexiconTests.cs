using Wav2Vec2.Decoding;
using static Wav2Vec2.Tests.Decoding.DecodingTestSupport;

namespace Wav2Vec2.Tests.Decoding;

[TestClass]
public sealed class LexiconTests
{
    [TestMethod]
    public void ReadsTabAndSpaceSeparatedLinesWithSeveralSpellings()
    {
        Lexicon lexicon = Lexicon.Read(new StringReader("AB\tA B |\n\nABA A B A\nABA\tA B B A | |\n"), "test.lexicon", TinyTokenizer());
        CollectionAssert.AreEqual(new[] { "AB", "ABA" }, lexicon.Words.ToArray());
        Assert.AreEqual(3, lexicon.Spellings.Count);
        CollectionAssert.AreEqual(new[] { 2, 3, 3, 2 }, lexicon.Spellings[2].Tokens);
        Assert.AreEqual(1, lexicon.Spellings[2].Word);
    }

    [TestMethod]
    [DataRow("A\tA |\nB\n", "line 2: expected 'word<TAB>spelling', found 'B'")]
    [DataRow("A\tA |\nB\t|\n", "line 2: the word 'B' has an empty spelling")]
    [DataRow("A\tA |\nC\tC |\n", "line 2: 'C' in the spelling of 'C' is not a token of the vocabulary")]
    [DataRow("AB\tA | B\n", "line 1: the spelling of 'AB' contains '|', which is a word delimiter, blank or special token")]
    [DataRow("A\t<pad> A\n", "line 1: the spelling of 'A' contains '<pad>'")]
    [DataRow("\n\n", "test.lexicon: the lexicon has no words")]
    public void MalformedLinesAreNamed(string text, string expected)
    {
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Lexicon.Read(new StringReader(text), "test.lexicon", TinyTokenizer()));
        StringAssert.StartsWith(error.Message, "test.lexicon: ");
        StringAssert.Contains(error.Message, expected);
    }
}
