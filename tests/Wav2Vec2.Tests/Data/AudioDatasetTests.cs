using Wav2Vec2.Audio;
using Wav2Vec2.Data;

namespace Wav2Vec2.Tests.Data;

[TestClass]
public sealed class AudioDatasetTests : TempDirectoryTest
{
    [TestMethod]
    public void TrainingNormalisesTheWholeUtteranceBeforeCroppingAsFairseq()
    {
        // A loud first half and a quiet, offset second half: a crop normalised on its own would look different.
        var samples = new float[32_000];
        for (int i = 0; i < samples.Length; i++)
            samples[i] = i < 16_000 ? 0.5f * MathF.Sin(i * 0.05f) : 0.3f + 0.01f * MathF.Sin(i * 0.07f);
        string path = Path.Combine(TempDirectory, "a.wav");
        File.WriteAllBytes(path, WavWriter.Encode(new AudioClip(samples, 16_000), asFloat: true));
        AudioDataset dataset = AudioDataset.Open(TempDirectory);
        var preprocessor = new InputValuesPreprocessor();
        LoadedBatch batch = BatchLoader.Load(dataset, new BatchPlan([0], 8000), 0, preprocessor, seed: 3, epoch: 1);
        float[] whole = preprocessor.Normalize(samples, 1e-5);   // fairseq: F.layer_norm over the whole utterance, eps 1e-5
        int start = Enumerable.Range(0, 32_000 - 8000 + 1).First(s => whole[s] == batch.Samples[0] && whole[s + 1] == batch.Samples[1]);
        CollectionAssert.AreEqual(whole.AsSpan(start, 8000).ToArray(), batch.Samples, "the crop is a window of the normalised utterance");
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
    [DataRow(40, 100_000, 1_400_000, 0, new[] { 8, 8, 8, 8, 8 })]
    [DataRow(12, 250_000, 1_400_000, 0, new[] { 5, 5 })]     // the last batch of 2 is dropped
    [DataRow(13, 200_000, 1_200_000, 4, new[] { 4, 4, 4 })]  // LARGE's batch_size 4; the last batch of 1 is dropped
    [DataRow(3, 16_000, 48_000, 0, new[] { 3 })]             // a lone batch is kept, whatever its size
    public void BatchSizesFollowFairseqsBatchBySize(int count, int samples, int maxTokens, int maxSentences, int[] expected)
    {
        var entries = Enumerable.Range(0, count).Select(i => new AudioEntry($"f{i}", samples)).ToList();
        var options = new BatchingOptions { MaxTokens = maxTokens, MaxSampleSize = 250_000, MinSampleSize = 0, MaxSentences = maxSentences > 0 ? maxSentences : null };
        CollectionAssert.AreEqual(expected, BatchSampler.Plan(entries, options, seed: 1, epoch: 1).Select(b => b.Indices.Length).Order().ToArray());
    }

    [TestMethod]
    public void BatchesRespectMaxTokensSkipShortFilesAndAreSeeded()
    {
        var random = new Random(4);
        var entries = Enumerable.Range(0, 200).Select(i => new AudioEntry($"f{i}", random.Next(10_000, 400_000))).ToList();
        var options = new BatchingOptions { MaxTokens = 1_400_000, MaxSampleSize = 250_000, MinSampleSize = 32_000 };
        var batches = BatchSampler.Plan(entries, options, seed: 1, epoch: 1);
        int[] used = batches.SelectMany(b => b.Indices).ToArray();
        Assert.AreEqual(used.Length, used.Distinct().Count(), "no file twice");
        Assert.IsTrue(used.All(i => entries[i].Samples >= 32_000), "short files skipped");
        // fairseq drops the last batch (the shortest files) when its size is not a multiple of 8.
        Assert.IsTrue(entries.Count(e => e.Samples >= 32_000) - used.Length is > 0 and < 8);
        Assert.IsTrue(batches.All(b => b.Indices.Length < 8 || b.Indices.Length % 8 == 0), "sizes below 8 or multiples of 8");
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
