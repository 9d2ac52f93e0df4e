using Wav2Vec2.Audio;
using Wav2Vec2.IO;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

[TestClass]
public sealed class Wav2Vec2ModelTests
{
    [TestMethod]
    public void PaddedBatchEqualsEachUtteranceAloneForLayerNormModels()
    {
        var model = Wav2Vec2Model.FromPretrained(FixturePath("models", "stable_layer"), strict: true, out _);
        float[] full = model.Preprocessor.Prepare(AudioFile.Read(FixturePath("reference_audio.wav")));
        float[] shorter = model.Preprocessor.Normalize(full.AsSpan(0, 6000));
        var batch = new float[2 * full.Length];
        full.CopyTo(batch, 0);
        shorter.CopyTo(batch, full.Length);
        Wav2Vec2Output padded = model.Forward(Tensor.FromArray(batch, 2, full.Length),
            new Wav2Vec2ForwardOptions { SampleLengths = [full.Length, shorter.Length] });
        Wav2Vec2Output alone = model.Forward(Tensor.FromArray(shorter, 1, shorter.Length));
        int frames = alone.FrameLengths[0], width = model.Config.HiddenSize, total = padded.LastHiddenState.Size(1);
        Assert.AreEqual(frames, padded.FrameLengths[1]);
        AssertClose(alone.LastHiddenState.Span, padded.LastHiddenState.Span.Slice(total * width, frames * width), 1e-5f, "padded item");
        Wav2Vec2Output first = model.Forward(Tensor.FromArray(full, 1, full.Length));
        AssertClose(first.LastHiddenState.Span, padded.LastHiddenState.Span[..(total * width)], 1e-5f, "full item");
    }

    [TestMethod]
    public void GroupNormModelsRejectUnequalLengthsInABatch()
    {
        var model = new Wav2Vec2Model(TinyConfig(), new RandomSource(3));
        var error = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new Tensor(2, 4000),
            new Wav2Vec2ForwardOptions { SampleLengths = [4000, 3000] }));
        StringAssert.Contains(error.Message, "group-norm feature encoders have no correct padding mask");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new Tensor(1, 12))).Message, "too short");
    }

    [TestMethod]
    public void ChunkedExtractionStitchesExactFrames()
    {
        // The layer-norm fixture model has 40 samples per frame and a 15-frame positional conv. With 0.2 s (80 frames)
        // of context, layer 0 (conv features + positional embedding) of every kept frame sees exactly what an unchunked
        // pass sees. (A group-norm encoder normalises over each window, so its chunks differ, as in Hugging Face.)
        var model = Wav2Vec2Model.FromPretrained(FixturePath("models", "stable_layer"), strict: true, out _);
        AudioClip audio = AudioFile.Read(FixturePath("reference_audio.wav"));   // 0.6 s, 239 frames
        var chunking = new ChunkingOptions { ChunkSeconds = 0.5, ContextSeconds = 0.2 };
        var progress = new List<double>();
        Tensor whole = model.ExtractFeatures(audio, 0, new ChunkingOptions { ChunkSeconds = 0 });
        Tensor chunked = model.ExtractFeatures(audio, 0, chunking, new SyncProgress(progress));
        AssertClose(whole.Span, chunked.Span, 1e-5f, "layer 0 from chunks");
        Assert.IsTrue(progress.Count > 2 && progress[^1] == 1.0, $"progress over several chunks: {string.Join(", ", progress)}");
        Tensor last = model.ExtractFeatures(audio, null, chunking);
        CollectionAssert.AreEqual(new[] { 239, 32 }, last.ShapeArray, "deeper layers stitch into the same frames");
        Assert.ThrowsExactly<OperationCanceledException>(() => model.ExtractFeatures(audio, 1, null, null, new CancellationToken(true)));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.ExtractFeatures(audio, 0,
            new ChunkingOptions { ChunkSeconds = 0.3, ContextSeconds = 0.2 })).Message, "leave no room");
    }

    [TestMethod]
    public void HiddenStatesOfSeveralLayersAndRecordingsEqualOneAtATime()
    {
        var model = Wav2Vec2Model.FromPretrained(FixturePath("models", "stable_layer"), strict: true, out _);
        AudioClip full = AudioFile.Read(FixturePath("reference_audio.wav"));
        AudioClip shorter = new(full.Samples[..6000], full.SampleRate);
        AudioClip[] clips = [full, shorter, full];
        Tensor[][] batched = model.ExtractHiddenStates(clips, [0, 2, 1], batchSize: 3);   // padded: layer-norm encoder
        for (int c = 0; c < clips.Length; c++)
            for (int l = 0; l < 3; l++)
                AssertClose(model.ExtractFeatures(clips[c], new[] { 0, 2, 1 }[l]), batched[c][l], 1e-5f, $"clip {c} entry {l}");
        Tensor[][] chunked = model.ExtractHiddenStates([full], [2], chunking: new ChunkingOptions { ChunkSeconds = 0.5, ContextSeconds = 0.2 });
        AssertClose(model.ExtractFeatures(full, 2, new ChunkingOptions { ChunkSeconds = 0.5, ContextSeconds = 0.2 }), chunked[0][0], 1e-6f, "chunked");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.ExtractHiddenStates(clips, [3]));

        // Group norm: equal lengths share a batch, a different length starts a new one.
        var tiny = new Wav2Vec2Model(TinyConfig(), new RandomSource(3));
        tiny.Train(false);
        var noise = new AudioClip(RandomArray(4000, 1, 0.3f), 16000);
        var other = new AudioClip(RandomArray(3000, 2, 0.3f), 16000);
        Tensor[][] grouped = tiny.ExtractHiddenStates([noise, noise, other], [2], batchSize: 3);
        AssertClose(tiny.ExtractFeatures(other, 2), grouped[2][0], 1e-5f, "group-norm model, own batch");
        AssertClose(tiny.ExtractFeatures(noise, 2), grouped[1][0], 1e-5f, "group-norm model, shared batch");
    }

    [TestMethod]
    public void StreamedFeaturesEqualTheReturnedOnesAndGoToNpyInBlocks()
    {
        var model = Wav2Vec2Model.FromPretrained(FixturePath("models", "stable_layer"), strict: true, out _);
        AudioClip audio = AudioFile.Read(FixturePath("reference_audio.wav"));
        var chunking = new ChunkingOptions { ChunkSeconds = 0.5, ContextSeconds = 0.2 };
        Tensor returned = model.ExtractFeatures(audio, 2, chunking);
        var blocks = new List<float[]>();
        int frames = model.StreamFeatures(audio, block => blocks.Add(block.ToArray()), 2, chunking);
        Assert.IsTrue(blocks.Count > 2, "one block per chunk");
        Assert.AreEqual(returned.Size(0), frames);
        CollectionAssert.AreEqual(returned.ToArray(), blocks.SelectMany(b => b).ToArray());

        string path = Path.Combine(Path.GetTempPath(), $"w2v2-stream-{Guid.NewGuid():N}.npy");
        try
        {
            int rows = Npy.WriteRows(path, 32, append => model.StreamFeatures(audio, append, 2, chunking));
            Tensor read = Npy.Read(path);
            CollectionAssert.AreEqual(new[] { rows, 32 }, read.ShapeArray);
            CollectionAssert.AreEqual(returned.ToArray(), read.ToArray());
            // A failure half-way leaves no file behind (temporary file + rename).
            File.Delete(path);
            Assert.ThrowsExactly<InvalidOperationException>(() => Npy.WriteRows(path, 32, append =>
            {
                append(new float[64]);
                throw new InvalidOperationException("stopped");
            }));
            Assert.IsFalse(File.Exists(path));
            Assert.IsFalse(Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + ".tmp*").Any());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class SyncProgress(List<double> values) : IProgress<double>
    {
        public void Report(double value) => values.Add(value);
    }
}
