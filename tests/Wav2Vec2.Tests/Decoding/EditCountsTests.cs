using Wav2Vec2.Decoding;

namespace Wav2Vec2.Tests.Decoding;

[TestClass]
public sealed class EditCountsTests
{
    [TestMethod]
    [DataRow("THE CAT SAT", "THE CAT SAT", 0, 0, 0)]
    [DataRow("THE CAT SAT", "THE BAT SAT", 1, 0, 0)]
    [DataRow("THE CAT SAT", "THE SAT", 0, 1, 0)]
    [DataRow("THE CAT SAT", "THE CAT SAT DOWN", 0, 0, 1)]
    [DataRow("A B C D", "X A C D E", 2, 0, 1)]   // 3 edits either way (X, -B, +E or A/X, B/A, +E): substitutions win ties
    [DataRow("", "HELLO", 0, 0, 1)]
    [DataRow("HELLO", "", 0, 1, 0)]
    public void WordAlignmentSplitsErrorsIntoTheirKinds(string reference, string hypothesis, int s, int d, int i)
    {
        EditCounts counts = EditCounts.Words(reference, hypothesis);
        Assert.AreEqual((s, d, i), (counts.Substitutions, counts.Deletions, counts.Insertions));
        Assert.AreEqual(reference.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, counts.ReferenceLength);
    }

    [TestMethod]
    public void CharacterRatesCountSpacesAndCorpusRatesPoolTheCounts()
    {
        EditCounts a = EditCounts.Characters("AB CD", "AB XD"), b = EditCounts.Characters("EF", "EFG");
        Assert.AreEqual(new EditCounts(1, 0, 0, 5), a);
        Assert.AreEqual(new EditCounts(0, 0, 1, 2), b);
        Assert.AreEqual(2.0 / 7, (a + b).Rate, 1e-12);
        Assert.AreEqual(0, EditCounts.Words("", "").Rate);
        Assert.AreEqual(1, EditCounts.Words("", "EXTRA").Rate);
    }
}
