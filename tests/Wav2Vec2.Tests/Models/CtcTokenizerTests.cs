using Wav2Vec2.Models;

namespace Wav2Vec2.Tests.Models;

[TestClass]
public sealed class CtcTokenizerTests
{
    [TestMethod]
    public void GreedyDecodingCollapsesRepeatsDropsBlanksAndSpecialTokens()
    {
        var vocabulary = new Dictionary<string, int> { ["<pad>"] = 0, ["<s>"] = 1, ["</s>"] = 2, ["<unk>"] = 3, ["|"] = 4, ["H"] = 5, ["E"] = 6, ["L"] = 7, ["O"] = 8 };
        var tokenizer = new CtcTokenizer(vocabulary);
        // H H E <pad> L L <pad> L O | | <s> H I(unk) -> "HELLO H"
        Assert.AreEqual("HELLO H", tokenizer.Decode([5, 5, 6, 0, 7, 7, 0, 7, 8, 4, 4, 1, 5, 3]));
        Assert.AreEqual("", tokenizer.Decode([0, 0, 4, 0]));
        Assert.AreEqual(9, tokenizer.Count);
        Assert.ThrowsExactly<InvalidDataException>(() => new CtcTokenizer(new Dictionary<string, int> { ["a"] = 0 }));
    }
}
