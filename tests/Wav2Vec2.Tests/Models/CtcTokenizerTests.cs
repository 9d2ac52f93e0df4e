using Wav2Vec2.Models;

namespace Wav2Vec2.Tests.Models;

[TestClass]
public sealed class CtcTokenizerTests : TempDirectoryTest
{
    [TestMethod]
    public void VocabularyBuiltFromTranscriptsFollowsTheHuggingFaceLayout()
    {
        var tokenizer = CtcTokenizer.FromTranscripts(["HELLO WORLD", "IT'S ALL"]);
        // specials, delimiter, then characters by frequency (L 5, O 2, then ties in ordinal order)
        string[] expected = ["<pad>", "<s>", "</s>", "<unk>", "|", "L", "O", "'", "A", "D", "E", "H", "I", "R", "S", "T", "W"];
        CollectionAssert.AreEqual(expected, Enumerable.Range(0, tokenizer.Count).Select(tokenizer.Token).ToArray());
        Assert.AreEqual((0, 4), (tokenizer.PadId, tokenizer.WordDelimiterId));
        CollectionAssert.AreEqual(new[] { 6, 5, 4, 16, 4, 12 }, tokenizer.Encode("OL W I"));
        Assert.IsTrue(tokenizer.IsSpecial(0) && tokenizer.IsSpecial(3) && !tokenizer.IsSpecial(4));
    }

    [TestMethod]
    public void AVocabularyThatIsNotTheHeadsSizeIsRefusedAtLoad()
    {
        CtcTokenizer vocabulary = CtcTokenizer.FromTranscripts(["HELLO WORLD"]);
        Wav2Vec2Config config = TinyConfig();
        config.VocabSize = vocabulary.Count;
        string directory = Path.Combine(TempDirectory, "model");
        new Wav2Vec2ForCtc(config, new Wav2Vec2.Tensors.RandomSource(1)) { Tokenizer = vocabulary }.SavePretrained(directory);
        Assert.AreEqual(vocabulary.Count, Wav2Vec2ForCtc.FromPretrained(directory).Tokenizer!.Count);
        File.WriteAllText(Path.Combine(directory, "vocab.json"), """{"<pad>": 0, "|": 1}""");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2ForCtc.FromPretrained(directory)).Message,
            $"vocab.json holds 2 token ids but the CTC head (config.json vocab_size) has {vocabulary.Count} outputs");
    }

    [TestMethod]
    public void EncodingNamesEveryCharacterOutsideTheVocabulary()
    {
        var tokenizer = CtcTokenizer.FromTranscripts(["ABC"]);
        var error = Assert.ThrowsExactly<ArgumentException>(() => tokenizer.Encode("AXB Z9X"));
        StringAssert.Contains(error.Message, "characters outside the vocabulary: 'X' 'Z' '9'");
        Assert.ThrowsExactly<ArgumentException>(() => tokenizer.Encode("<S>"), "special tokens are not text");
    }

    [TestMethod]
    public void SaveWritesTheThreeHuggingFaceFilesAndLoadReadsThemBack()
    {
        var tokenizer = CtcTokenizer.FromTranscripts(["DON'T STOP"]);
        tokenizer.Save(TempDirectory);
        StringAssert.Contains(File.ReadAllText(Path.Combine(TempDirectory, "vocab.json")), "\"'\"");
        StringAssert.Contains(File.ReadAllText(Path.Combine(TempDirectory, "tokenizer_config.json")), "\"word_delimiter_token\": \"|\"");
        StringAssert.Contains(File.ReadAllText(Path.Combine(TempDirectory, "special_tokens_map.json")), "\"pad_token\": \"<pad>\"");
        var loaded = CtcTokenizer.Load(TempDirectory);
        CollectionAssert.AreEqual(Enumerable.Range(0, tokenizer.Count).Select(tokenizer.Token).ToArray(),
            Enumerable.Range(0, loaded.Count).Select(loaded.Token).ToArray());
        Assert.ThrowsExactly<InvalidDataException>(() => new CtcTokenizer(new Dictionary<string, int> { ["a"] = 0 }));
    }

    [TestMethod]
    [DataRow("It's a well-known fact.", "IT'S A WELL KNOWN FACT")]
    [DataRow("  Hello,   \"world\"!  ", "HELLO WORLD")]
    [DataRow("rock\u2019n\u2019roll_2 (live)", "ROCK'N'ROLL 2 LIVE")]
    [DataRow("", "")]
    public void NormalizationUppercasesKeepsApostrophesAndSeparatesWords(string text, string expected) =>
        Assert.AreEqual(expected, TranscriptNormalizer.Normalize(text));
}
