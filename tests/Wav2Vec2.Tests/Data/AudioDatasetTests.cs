using Wav2Vec2.Data;

namespace Wav2Vec2.Tests.Data;

[TestClass]
public sealed class AudioDatasetTests : TempDirectoryTest
{
    [TestMethod]
    public void DirectoryScanFindsNestedFilesAndSkipsCorruptOnes()
    {
        string chapter = Directory.CreateDirectory(Path.Combine(TempDirectory, "103", "1240")).FullName;
        File.Copy(FixturePath("flac", "speech16.flac"), Path.Combine(chapter, "103-1240-0000.flac"));
        File.Copy(FixturePath("reference_audio.wav"), Path.Combine(TempDirectory, "a.wav"));
        File.WriteAllText(Path.Combine(chapter, "103-1240-0001.flac"), "not audio");
        File.WriteAllText(Path.Combine(TempDirectory, "notes.txt"), "ignored");
        AudioDataset dataset = AudioDataset.Open(TempDirectory);
        Assert.AreEqual(2, dataset.Entries.Count);
        Assert.AreEqual(1, dataset.Skipped.Count);
        StringAssert.Contains(dataset.Skipped[0], "103-1240-0001.flac: not a FLAC file");
        Assert.AreEqual(16000, dataset.Entries.Single(e => e.Path.EndsWith(".flac")).Samples);
    }

    [TestMethod]
    public void FairseqManifestIsReadRelativeToItsRoot()
    {
        File.Copy(FixturePath("reference_audio.wav"), Path.Combine(TempDirectory, "a.wav"));
        string manifest = Path.Combine(TempDirectory, "train.tsv");
        File.WriteAllText(manifest, $"{TempDirectory}\na.wav\t9600\nmissing.wav\t100\n");
        AudioDataset dataset = AudioDataset.Open(manifest);
        Assert.AreEqual(1, dataset.Entries.Count);
        Assert.AreEqual(9600, dataset.Entries[0].Samples);
        Assert.AreEqual(1, dataset.Skipped.Count);
        File.WriteAllText(manifest, $"{TempDirectory}\na.wav nine\n");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => AudioDataset.Open(manifest)).Message, "train.tsv:2");
    }

    [TestMethod]
    public void BatchesRespectMaxTokensSkipShortFilesAndAreSeeded()
    {
        var random = new Random(4);
        var entries = Enumerable.Range(0, 200).Select(i => new AudioEntry($"f{i}", random.Next(10_000, 400_000))).ToList();
        var options = new BatchingOptions { MaxTokens = 1_400_000, MaxSampleSize = 250_000, MinSampleSize = 32_000 };
        var batches = BatchSampler.Plan(entries, options, seed: 1, epoch: 1);
        int expected = entries.Count(e => e.Samples >= 32_000);
        Assert.AreEqual(expected, batches.Sum(b => b.Indices.Length), "every long-enough file once");
        foreach (BatchPlan batch in batches)
        {
            int longest = batch.Indices.Max(i => (int)Math.Min(entries[i].Samples, 250_000));
            Assert.IsTrue(batch.Indices.Length * (long)longest <= 1_400_000 || batch.Indices.Length == 1);
            Assert.AreEqual(batch.Indices.Min(i => (int)Math.Min(entries[i].Samples, 250_000)), batch.Length, "cropped to the shortest");
        }
        CollectionAssert.AreEqual(batches.Select(b => b.Indices[0]).ToArray(),
            BatchSampler.Plan(entries, options, 1, 1).Select(b => b.Indices[0]).ToArray(), "same seed and epoch, same order");
        CollectionAssert.AreNotEqual(batches.Select(b => b.Indices[0]).ToArray(),
            BatchSampler.Plan(entries, options, 1, 2).Select(b => b.Indices[0]).ToArray(), "another epoch, another order");
    }
}
