using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.MLNet;
using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.Tests.MLNet;

[TestClass]
public sealed class SchemaErrorTests : TempDirectoryTest
{
    private sealed class NumberRow
    {
        public int Path { get; set; }
    }

    [TestMethod]
    public void MissingOrMistypedColumnsFailAtFitAndGetOutputSchemaWithTheColumnNamed()
    {
        var ml = new MLContext(seed: 0);
        IDataView numbers = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Path = 1 } });
        var features = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions { Model = MLNetTestData.TinyModel(), InputColumnName = "Path" });
        var wrong = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => features.Fit(numbers));
        StringAssert.Contains(wrong.Message, "Wav2Vec2Features: schema mismatch for input column 'Path': expected Text (an audio file path) " +
            "or a vector of Single (16 kHz mono samples), got Int32");
        var load = ml.Transforms.LoadAudio("Audio", inputColumnName: "Path");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => load.Fit(numbers)).Message,
            "LoadAudio: schema mismatch for input column 'Path': expected Text (an audio file path), got Int32");

        IDataView paths = ml.Data.LoadFromEnumerable(new[] { new ClipRow { Path = "a.wav" } });
        var missing = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions { Model = MLNetTestData.TinyModel(), InputColumnName = "Audio" });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => missing.Fit(paths)).Message,
            "Wav2Vec2Features: could not find input column 'Audio'");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => missing.Fit(paths).GetOutputSchema(paths.Schema)).Message,
            "could not find input column 'Audio'");

        // Through an estimator chain's schema propagation, before any data is read.
        var chain = ml.Transforms.LoadAudio("Samples", inputColumnName: "Path").Append(missing);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => chain.GetOutputSchema(MLNetTestData.ShapeOf(paths))).Message,
            "could not find input column 'Audio'");
    }

    [TestMethod]
    public void ALayerOutOfRangeFailsBeforeAnyRowIsRead()
    {
        var ml = new MLContext(seed: 0);
        IDataView paths = ml.Data.LoadFromEnumerable(new[] { new ClipRow { Path = "missing.wav" } });
        string directory = MLNetTestData.TinyModelDirectory(TempDirectory);
        var estimator = ml.Transforms.Wav2Vec2Features("Features", "Path", directory, layer: 3);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(MLNetTestData.ShapeOf(paths)));
        StringAssert.Contains(error.Message, "Wav2Vec2Features: layer 3 is out of range: this model has hidden states 0 to 2 (or -1 to -3 from the end)");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Wav2Vec2Features("Features", "Path", directory, layer: -4).Fit(paths));
        Assert.AreEqual(16, ((VectorDataViewType)ml.Transforms.Wav2Vec2Features("Features", "Path", directory, layer: -3)
            .Fit(paths).GetOutputSchema(paths.Schema)["Features"].Type).Size, "layer -3 is layer 0");
    }

    [TestMethod]
    public void BadOptionsFailWhenTheEstimatorIsCreated()
    {
        var ml = new MLContext(seed: 0);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions())).Message,
            "set ModelDirectory or Model");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Wav2Vec2Features(
            new Wav2Vec2FeaturesOptions { Model = MLNetTestData.TinyModel(), BatchSize = 0 }));
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => ml.Transforms.LoadAudio("Audio", Path.Combine(TempDirectory, "nowhere"), "Path"));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Wav2Vec2Features(
            new Wav2Vec2FeaturesOptions { Model = MLNetTestData.TinyModel(), Layers = [1, 1] })).Message, "repeated");
    }

    [TestMethod]
    public void TheReflectionShimsReachTheEnvironmentAndBuildShapeColumns()
    {
        var ml = new MLContext(seed: 0);
        var log = new List<string>();
        ml.Log += (_, e) => log.Add(e.Message);
        MLNetInterop.Info(MLNetInterop.Environment(ml.Transforms), "Test", "through the transforms catalog");
        MLNetInterop.Warning(MLNetInterop.Environment(ml.Model), "Test", "through the model catalog");
        Assert.IsTrue(log.Any(m => m.Contains("through the transforms catalog")), string.Join("\n", log));
        Assert.IsTrue(log.Any(m => m.Contains("through the model catalog")), string.Join("\n", log));
        SchemaShape.Column column = MLNetInterop.ShapeColumn("F", new VectorDataViewType(NumberDataViewType.Single, 4));
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, column.Kind);
        Assert.AreEqual(NumberDataViewType.Single, column.ItemType);
    }

    // An estimator's view of a data view's schema (SchemaShape.Create is internal to ML.NET).
}
