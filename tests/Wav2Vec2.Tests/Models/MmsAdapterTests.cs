using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.IO;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using static Wav2Vec2.Tests.Support.CliRunner;

namespace Wav2Vec2.Tests.Models;

/// <summary>
/// MMS language adapters (tools/export_mms_reference.py: Hugging Face's Wav2Vec2AttnAdapterLayer in every pre-LN layer,
/// a head and a vocabulary per language): switching languages without reloading the backbone gives each language's
/// reference logits; unknown languages and foreign adapter files are refused in one line.
/// </summary>
[TestClass]
public sealed class MmsAdapterTests : TempDirectoryTest
{
    private const float Tolerance = 1e-4f;

    [TestMethod]
    public void SwitchingLanguagesGivesEachLanguagesReferenceOutputs()
    {
        var model = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", "mms"));
        Assert.IsNull(model.Tokenizer, "a multilingual vocabulary waits for a language");
        using var reference = SafeTensorsFile.Open(FixturePath("mms.reference.safetensors"));
        float[] input = model.Preprocessor.Prepare(AudioFile.Read(FixturePath("reference_audio.wav")));
        float[] Backbone() => [.. model.Backbone.NamedParameters().Where(p => !p.Name.Contains(".adapter_layer.")).SelectMany(p => p.Parameter.ToArray())];
        float[] backbone = Backbone();
        foreach (var (language, tokens) in new[] { ("fra", 14), ("eng", 12), ("fra", 14) })
        {
            model.LoadAdapter(language);
            Assert.AreEqual(language, model.TargetLanguage);
            Assert.AreEqual(tokens, model.Tokenizer!.Count);
            Assert.AreEqual(tokens, model.Config.VocabSize);
            var (logits, output, _) = model.Forward(Tensor.FromArray(input, 1, input.Length),
                options: new Wav2Vec2ForwardOptions { OutputHiddenStates = true });
            AssertClose(reference.Read($"logits.{language}").Span, logits.Span, Tolerance, $"{language} logits");
            if (language == "fra")
                for (int i = 0; i < output.HiddenStates.Count; i++)
                    AssertClose(reference.Read($"hidden_states.{i}.fra").Span, output.HiddenStates[i].Span, Tolerance, $"fra hidden_states[{i}]");
        }
        CollectionAssert.AreEqual(backbone, Backbone(), "the backbone is not reloaded");
    }

    [TestMethod]
    public void AnInt8ModelSwitchedToAnotherLanguageRunsThatLanguagesAdaptersAndHead()
    {
        float[] Logits(Wav2Vec2ForCtc model)
        {
            float[] input = model.Preprocessor.Prepare(AudioFile.Read(FixturePath("reference_audio.wav")));
            return model.Forward(Tensor.FromArray(input, 1, input.Length)).Logits.ToArray();
        }
        var switched = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", "mms"));
        switched.UsePrecision(Wav2Vec2.Nn.Precision.Int8);
        switched.LoadAdapter("fra");
        float[] french = Logits(switched);
        switched.LoadAdapter("eng");
        var fresh = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", "mms"));
        fresh.UsePrecision(Wav2Vec2.Nn.Precision.Int8);
        fresh.LoadAdapter("eng");
        float[] english = Logits(fresh);
        CollectionAssert.AreEqual(english, Logits(switched), "the adapters and head quantised again after the switch");
        Assert.AreNotEqual(french.Length, english.Length);
    }

    [TestMethod]
    public void UnknownLanguagesForeignAdaptersAndModelsWithoutAdaptersAreRefused()
    {
        string directory = CopyModelFixture("mms");
        var model = Wav2Vec2ForCtc.FromPretrained(directory);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => model.LoadAdapter("deu")).Message,
            "no adapter for language 'deu' (adapter.deu.safetensors); it has eng, fra");

        // An adapter file that also carries a backbone weight is not an adapter of this model.
        var tensors = new List<(string, Tensor)>();
        using (var fra = SafeTensorsFile.Open(Path.Combine(directory, "adapter.fra.safetensors")))
            tensors.AddRange(fra.Entries.Keys.Select(n => (n, fra.Read(n))));
        tensors.Add(("wav2vec2.encoder.layer_norm.weight", Tensor.FromArray(new float[32], 32)));
        SafeTensorsWriter.Write(Path.Combine(directory, "adapter.spa.safetensors"), tensors);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => model.LoadAdapter("spa")).Message, "adapter.spa.safetensors: ");

        var plain = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", "stable_layer"));
        Assert.ThrowsExactly<InvalidOperationException>(() => plain.LoadAdapter("fra"));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => CtcTokenizer.Load(directory)).Message,
            "holds the vocabularies of 2 languages (eng, fra): choose one");
    }

    [TestMethod]
    public void TheCommandLineAndMLNetTakeTheLanguage()
    {
        string mms = FixturePath("models", "mms"), audio = FixturePath("reference_audio.wav");
        string french = SpeechRecognizer.FromPretrained(mms, language: "fra").Transcribe(AudioFile.Read(audio));
        var (code, output, error) = Run("transcribe", "--model", mms, "--audio", audio, "--lang", "fra");
        Assert.AreEqual(0, code, error);
        Assert.AreEqual(french, output.TrimEnd('\n'));
        (code, _, error) = Run("transcribe", "--model", mms, "--audio", audio);
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "a multilingual model (2 languages: eng, fra): choose a language");
        (code, output, _) = Run("inspect", "--model", mms);
        StringAssert.Contains(output, "adapters:     width 8; languages eng, fra");
        (code, _, error) = Run("align", "--model", mms, "--audio", audio, "--text", "ET", "--lang", "deu");
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "no adapter for language 'deu'");

        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new Wav2Vec2.Tests.MLNet.ClipRow { Path = audio } });
        IDataView transcribed = ml.Transforms.Wav2Vec2Transcribe(new Wav2Vec2TranscribeOptions
        {
            ModelDirectory = mms, Language = "fra", InputColumnName = "Path", OutputColumnName = "Text",
        }).Fit(data).Transform(data);
        Assert.AreEqual(french, transcribed.GetColumn<string>("Text").Single());
    }

    [TestMethod]
    public void FineTuningANewLanguageTrainsOnlyTheAdaptersAndTheHead()
    {
        string mms = FixturePath("models", "mms"), run = Path.Combine(TempDirectory, "run");
        string train = ToneCorpus(Path.Combine(TempDirectory, "train"), ["HELLO", "WORLD", "OLD LORE"]);
        var (code, output, error) = Run("finetune", "--init", mms, "--train", train, "--out", run, "--preset", "tiny",
            "--max-tokens", "64000", "--max-updates", "3", "--adapter-lang", "xyz");
        Assert.AreEqual(0, code, error + output);
        string final = Path.Combine(run, "final");
        Assert.IsTrue(File.Exists(Path.Combine(final, "adapter.xyz.safetensors")));

        static bool Adapter(string name) => name.Contains(".adapter_layer.", StringComparison.Ordinal) || name.StartsWith("lm_head.", StringComparison.Ordinal);
        var before = Wav2Vec2Model.FromPretrained(mms, strict: false, out _);
        var trained = Wav2Vec2ForCtc.FromPretrained(final);
        CollectionAssert.AreEqual(
            before.NamedParameters().Where(p => !Adapter(p.Name)).SelectMany(p => p.Parameter.ToArray()).ToArray(),
            trained.Backbone.NamedParameters().Where(p => !Adapter(p.Name)).SelectMany(p => p.Parameter.ToArray()).ToArray(),
            "the backbone is not trained");
        CollectionAssert.AreNotEqual(
            before.NamedParameters().Where(p => Adapter(p.Name)).SelectMany(p => p.Parameter.ToArray()).ToArray(),
            trained.Backbone.NamedParameters().Where(p => Adapter(p.Name)).SelectMany(p => p.Parameter.ToArray()).ToArray(),
            "the adapters are");
        trained.LoadAdapter("xyz");
        Assert.AreEqual("xyz", trained.TargetLanguage);

        (code, _, error) = Run("finetune", "--init", FixturePath("models", "stable_layer"), "--train", train, "--out",
            Path.Combine(TempDirectory, "plain"), "--preset", "tiny", "--max-updates", "1", "--adapter-lang", "xyz");
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "needs a model with language adapters");
    }
}
