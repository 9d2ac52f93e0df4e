using Microsoft.ML.Data;
using Microsoft.ML;
using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Tests.MLNet;

[TestClass]
public sealed class LazinessAndThreadingTests : TempDirectoryTest
{
    [TestMethod]
    public void OnlyColumnsThatAreReadAreComputed()
    {
        var (features, transformed) = TinyFeaturesOfTones(classes: 2, perClass: 3);
        Assert.AreEqual(0, features.Features.ClipsComputed, "Transform computes nothing");
        string[] labels = transformed.GetColumn<string>("Label").ToArray();
        Assert.AreEqual(6, labels.Length);
        Assert.AreEqual(0, features.Features.ClipsComputed, "reading another column computes nothing");
        using (DataViewRowCursor cursor = transformed.GetRowCursor(transformed.Schema))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(transformed.Schema["Features"]);
            VBuffer<float> value = default;
            cursor.MoveNext();
            cursor.MoveNext();
            getter(ref value);
            getter(ref value);
            Assert.AreEqual(1, features.Features.ClipsComputed, "a row whose column is read twice is computed once; a skipped row not at all");
        }
        MLNetTestData.Column(transformed, "Features");
        Assert.AreEqual(7, features.Features.ClipsComputed);
    }

    [TestMethod]
    public void BatchedReadAheadGivesTheSameValuesAndComputesEachRowOnce()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(MLNetTestData.WriteTones(TempDirectory, 2, 5));
        var model = MLNetTestData.TinyModel();
        Wav2Vec2FeaturesTransformer Fit(int batch) => ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = model, InputColumnName = "Path", AudioFolder = TempDirectory, BatchSize = batch,
        }).Fit(data);
        var single = MLNetTestData.Column(Fit(1).Transform(data), "Features");
        Wav2Vec2FeaturesTransformer batched = Fit(4);
        var values = MLNetTestData.Column(batched.Transform(data), "Features");
        Assert.AreEqual(10, batched.Features.ClipsComputed, "10 rows in batches of 4, each computed once");
        for (int i = 0; i < single.Count; i++)
            AssertClose(single[i], values[i], 1e-5f, $"row {i}");
        // A shuffled cursor cannot be followed by a second cursor: rows are computed one at a time, same values.
        IDataView shuffled = ml.Data.ShuffleRows(batched.Transform(data), seed: 3);
        Assert.AreEqual(10, MLNetTestData.Column(shuffled, "Features").Count);
    }

    [TestMethod]
    public void ParallelCursorsShareTheModelSafely()
    {
        var (_, transformed) = TinyFeaturesOfTones(classes: 4, perClass: 4);
        var serial = MLNetTestData.Column(transformed, "Features");
        var ids = new List<(ulong Id, float[] Value)>();
        DataViewRowCursor[] cursors = transformed.GetRowCursorSet([transformed.Schema["Features"]], 4);
        Parallel.ForEach(cursors, new ParallelOptions { MaxDegreeOfParallelism = 4 }, cursor =>
        {
            using (cursor)
            {
                var getter = cursor.GetGetter<VBuffer<float>>(transformed.Schema["Features"]);
                var id = cursor.GetIdGetter();
                VBuffer<float> value = default;
                DataViewRowId rowId = default;
                while (cursor.MoveNext())
                {
                    getter(ref value);
                    id(ref rowId);
                    lock (ids)
                        ids.Add((rowId.Low, value.DenseValues().ToArray()));
                }
            }
        });
        Assert.AreEqual(serial.Count, ids.Count);
        foreach (var (id, value) in ids)
            CollectionAssert.AreEqual(serial[(int)id], value, $"row {id}");
    }

    // Tones written to the scratch directory and the tiny model's last-layer mean features of them.
    private (Wav2Vec2FeaturesTransformer Features, IDataView Transformed) TinyFeaturesOfTones(int classes, int perClass)
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(MLNetTestData.WriteTones(TempDirectory, classes, perClass));
        var features = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = MLNetTestData.TinyModel(), InputColumnName = "Path", AudioFolder = TempDirectory,
        }).Fit(data);
        return (features, features.Transform(data));
    }

    [TestMethod]
    public void ThreadCountScopesTheComputationAndLeavesTheProcessDefaultAlone()
    {
        int processDegree = Parallelism.DegreeOfParallelism;
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(MLNetTestData.WriteTones(TempDirectory, 1, 2));
        Wav2Vec2Model model = MLNetTestData.TinyModel();
        IDataView single = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = model, InputColumnName = "Path", AudioFolder = TempDirectory, ThreadCount = 1, Pooling = Wav2Vec2Pooling.None,
        }).Fit(data).Transform(data);
        var values = MLNetTestData.Column(single, "Features");
        Assert.AreEqual(processDegree, Parallelism.DegreeOfParallelism, "the pipeline's thread count is scoped to its computations");
        for (int i = 0; i < values.Count; i++)
        {
            float[] samples = AudioFile.Read(Path.Combine(TempDirectory, $"c0_{i}.wav")).Samples;
            using (Parallelism.Scope(1))
                CollectionAssert.AreEqual(model.ExtractFeatures(new AudioClip(samples, 16000)).ToArray(), values[i], $"row {i} is the one-thread result");
        }
    }

    [TestMethod]
    public void CancellationStopsCursors()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(MLNetTestData.WriteTones(TempDirectory, 1, 2));
        using var cancel = new CancellationTokenSource();
        IDataView transformed = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = MLNetTestData.TinyModel(), InputColumnName = "Path", AudioFolder = TempDirectory, CancellationToken = cancel.Token,
        }).Fit(data).Transform(data);
        cancel.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => MLNetTestData.Column(transformed, "Features"));
    }
}
