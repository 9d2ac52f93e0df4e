using Wav2Vec2.Audio;
using Wav2Vec2.Data;
using static Wav2Vec2.Tests.ModelParityTests;

namespace Wav2Vec2.Tests;

[TestClass]
public sealed class DataTests : TempDirectoryTest
{
    [TestMethod]
    [DataRow("speech16", 16)]
    [DataRow("stereo24", 24)]
    [DataRow("speech8", 8)]
    public void FlacDecodesToTheSamplesOfItsSourceWav(string name, int bits)
    {
        AudioClip flac = FlacDecoder.Read(FixturePath("flac", name + ".flac"));
        AudioClip wav = WavReader.Read(FixturePath("flac", name + ".wav"));
        Assert.AreEqual(wav.SampleRate, flac.SampleRate);
        Assert.AreEqual(wav.Samples.Length, flac.Samples.Length);
        for (int i = 0; i < wav.Samples.Length; i++)
            Assert.AreEqual(wav.Samples[i], flac.Samples[i], 1e-6, $"sample {i}");
        FlacStreamInfo info = FlacDecoder.ReadStreamInfo(FixturePath("flac", name + ".flac"));
        Assert.AreEqual(bits, info.BitsPerSample);
        Assert.IsTrue(info.Md5.Any(b => b != 0), "sox records an MD5, so the check ran");
    }

    [TestMethod]
    public void CorruptFlacFailsWithAClearMessage()
    {
        byte[] good = File.ReadAllBytes(FixturePath("flac", "speech16.flac"));
        byte[] flipped = (byte[])good.Clone();
        flipped[good.Length / 2] ^= 0x5A;
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => FlacDecoder.Decode(flipped, "x.flac")).Message, "corrupt");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => FlacDecoder.Decode(good[..(good.Length * 2 / 3)], "x.flac")).Message, "truncated");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => FlacDecoder.Decode("RIFF1234WAVE"u8.ToArray(), "x.flac")).Message, "not a FLAC file");
    }

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
