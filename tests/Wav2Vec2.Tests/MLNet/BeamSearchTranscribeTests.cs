using System.IO.Compression;
using Microsoft.ML.Data;
using Microsoft.ML;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.MLNet;

namespace Wav2Vec2.Tests.MLNet;

[TestClass]
public sealed class BeamSearchTranscribeTests : TempDirectoryTest
{
    private sealed class ClipRow
    {
        public string Path { get; set; } = "";
    }

    [TestMethod]
    public void BeamSearchWithALanguageModelTranscribesLikeTheCoreAndTravelsInsideTheZip()
    {
        var ml = new MLContext(seed: 0);
        string directory = FixturePath("models", "stable_layer"), lm = FixturePath("lm", "fortunes-3gram.arpa.gz");
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new ClipRow { Path = FixturePath("reference_audio.wav") } });
        var decoding = new CtcDecoderSettings { LanguageModelPath = lm, BeamSearch = new BeamSearchOptions { BeamWidth = 16, LanguageModelWeight = 0.7f } };
        ITransformer model = ml.Transforms.Wav2Vec2Transcribe(new Wav2Vec2TranscribeOptions
        {
            ModelDirectory = directory, InputColumnName = "Path", OutputColumnName = "Text", Decoding = decoding,
        }).Fit(data);
        string text = model.Transform(data).GetColumn<string>("Text").Single();
        var core = SpeechRecognizer.FromPretrained(directory, new CtcDecoderSettings { LanguageModelPath = lm, BeamSearch = decoding.BeamSearch });
        Assert.AreEqual(core.Transcribe(FixturePath("reference_audio.wav")), text);

        string path = Path.Combine(TempDirectory, "asr.zip");
        ml.Model.SaveWav2Vec2(model, data.Schema, path);
        using (ZipArchive zip = ZipFile.OpenRead(path))
            Assert.IsTrue(zip.Entries.Any(e => e.FullName.EndsWith("decoder/lm.arpa.gz", StringComparison.Ordinal)), "the LM is inside the zip");
        ITransformer loaded = new MLContext(seed: 1).Model.LoadWav2Vec2(path, out _);
        Assert.AreEqual(text, loaded.Transform(data).GetColumn<string>("Text").Single());
        var reloaded = ((TransformerChain<ITransformer>)loaded).OfType<Wav2Vec2TranscribeTransformer>().Single();
        Assert.IsTrue(File.Exists(reloaded.Decoding.LanguageModelPath), "the LM was extracted for the loaded transform");
        ml.Model.SaveWav2Vec2(loaded, data.Schema, Path.Combine(TempDirectory, "again.zip"));
    }
}
