using Microsoft.ML;
using Wav2Vec2.Audio;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Onnx;
using Wav2Vec2.Tensors;
using Wav2Vec2.Tests.MLNet;

namespace Wav2Vec2.Tests.Onnx;

/// <summary>
/// An exported model inside an ML.NET pipeline: our LoadAudio, then ML.NET's own ApplyOnnxModel on the samples of
/// clips of different lengths (the export normalises its input, so LoadAudio's plain samples go straight in).
/// </summary>
[TestClass]
public sealed class OnnxMLNetTests : TempDirectoryTest
{
    [TestMethod]
    public void ApplyOnnxModelAfterLoadAudioGivesOurLogits()
    {
        var ml = new MLContext(seed: 0);
        List<ClipRow> rows = [.. MLNetTestData.WriteTones(TempDirectory, classes: 2, perClass: 1, seconds: 0.4),
            .. MLNetTestData.WriteTones(Directory.CreateDirectory(Path.Combine(TempDirectory, "long")).FullName, classes: 1, perClass: 1, seconds: 0.71)
                .Select(r => new ClipRow { Path = Path.Combine("long", r.Path), Label = r.Label })];
        var model = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", "post_ln_group"));
        string onnx = Path.Combine(TempDirectory, "ctc.onnx");
        OnnxExporter.Export(model, onnx, new OnnxExportOptions { NormalizeInput = true, AttentionMask = false });

        IDataView data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.LoadAudio("input_values", TempDirectory, "Path")
            .Append(ml.Transforms.ApplyOnnxModel(["logits"], ["input_values"], onnx));
        float[][] logits = [.. ml.Data.CreateEnumerable<LogitsRow>(pipeline.Fit(data).Transform(data), reuseRowObject: false).Select(r => r.Logits)];

        Assert.AreEqual(3, logits.Length);
        for (int i = 0; i < rows.Count; i++)
        {
            float[] input = model.Preprocessor.Prepare(AudioFile.Read(Path.Combine(TempDirectory, rows[i].Path)));
            var (expected, _, _) = model.Forward(Tensor.FromArray(input, 1, input.Length));
            AssertClose(expected.Span, logits[i], 1e-4f, $"row {i} ({rows[i].Path})");
        }
    }

    private sealed class LogitsRow
    {
        [Microsoft.ML.Data.ColumnName("logits")]
        public float[] Logits { get; set; } = [];
    }
}
