using Wav2Vec2.Decoding;
using Wav2Vec2.Models;

namespace Wav2Vec2.Tests.Decoding;

[TestClass]
public sealed class GreedyCtcDecoderTests
{
    private static readonly CtcTokenizer Tokenizer = new(new Dictionary<string, int>
    {
        ["<pad>"] = 0, ["<s>"] = 1, ["</s>"] = 2, ["<unk>"] = 3, ["|"] = 4, ["H"] = 5, ["E"] = 6, ["L"] = 7, ["O"] = 8,
    });

    [TestMethod]
    public void GreedyDecodingCollapsesRepeatsDropsBlanksAndSpecialTokens()
    {
        var decoder = new GreedyCtcDecoder(Tokenizer);
        // H H E <pad> L L <pad> L O | | <s> H I(unk) -> "HELLO H"
        Assert.AreEqual("HELLO H", decoder.Collapse([5, 5, 6, 0, 7, 7, 0, 7, 8, 4, 4, 1, 5, 3]));
        Assert.AreEqual("", decoder.Collapse([0, 0, 4, 0]));
        Assert.AreEqual(9, Tokenizer.Count);
    }

    [TestMethod]
    public void DecodeTakesTheBestTokenOfEveryFrame()
    {
        int[] best = [5, 6, 7, 0, 7, 8];
        var logits = new float[best.Length * 9];
        for (int t = 0; t < best.Length; t++)
        {
            for (int v = 0; v < 9; v++)
                logits[t * 9 + v] = -v * 0.1f;
            logits[t * 9 + best[t]] = 3f;
        }
        Assert.AreEqual("HELLO", new GreedyCtcDecoder(Tokenizer).Decode(logits, best.Length));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new GreedyCtcDecoder(Tokenizer).Decode(logits, 5)).Message,
            "not 5 frames x 9 tokens");
    }
}
