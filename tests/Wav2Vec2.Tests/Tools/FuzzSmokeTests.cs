using Wav2Vec2.Fuzz;

namespace Wav2Vec2.Tests.Tools;

/// <summary>
/// A short run of each fuzzer of tools/Wav2Vec2.Fuzz (fixed seeds): every mutant must end in a clean one-line error
/// naming the file or in a finite result; a raw message, a crash, a hang or a NaN output fails the test.
/// </summary>
[TestClass]
public sealed class FuzzSmokeTests : TempDirectoryTest
{
    [TestMethod]
    [DataRow("checkpoint")]
    [DataRow("pickle")]
    [DataRow("fairseq")]
    [DataRow("arpa")]
    [DataRow("audio")]
    public void MutantsEndInCleanErrorsOrFiniteResults(string kind)
    {
        var fixtures = new Fixtures(FixturePath());
        IReadOnlyList<ClassReport> reports = FuzzRunner.Run(Mutants.Of(kind, fixtures, 36, seed: 2024), TempDirectory, TimeSpan.FromSeconds(30));
        var summary = new StringWriter();
        FuzzRunner.Print(reports, summary);
        Assert.AreEqual(36, reports.Sum(r => r.Cases));
        Assert.IsTrue(reports.All(r => r.Failures.Count == 0), summary.ToString());
    }
}
