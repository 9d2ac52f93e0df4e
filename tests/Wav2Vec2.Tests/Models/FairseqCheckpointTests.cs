using Wav2Vec2.Audio;
using Wav2Vec2.IO;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

/// <summary>
/// fairseq checkpoints written by tools/export_fairseq_reference.py from torchaudio models, in the forms the releases
/// come in (legacy torch.save with an argparse Namespace, zip with a pickled omegaconf DictConfig, zip with a plain
/// dict and the dictionary inside): converted to Hugging Face layout, every hidden state and the logits match the
/// torchaudio model they were written from.
/// </summary>
[TestClass]
public sealed class FairseqCheckpointTests : TempDirectoryTest
{
    private const float Tolerance = 1e-4f;

    [TestMethod]
    [DataRow("ctc_args", false, FeatureEncoderNorm.Group, false)]
    [DataRow("ctc_dictconfig", true, FeatureEncoderNorm.Layer, true)]
    [DataRow("ctc_dict_cfg", false, FeatureEncoderNorm.Group, false)]
    public void AFineTunedCheckpointGivesTheLogitsOfTheModelItWasWrittenFrom(string name, bool preLayerNorm, FeatureEncoderNorm norm, bool normalize)
    {
        string directory = FairseqCheckpoint.Resolve(FixturePath("fairseq", name, "checkpoint.pt"), cacheDirectory: TempDirectory);
        var model = Wav2Vec2ForCtc.FromPretrained(directory);
        Assert.AreEqual(preLayerNorm, model.Config.DoStableLayerNorm);
        Assert.AreEqual(norm, model.Config.FeatExtractNorm);
        Assert.AreEqual(normalize, model.Preprocessor.DoNormalize, "the task's normalize");
        // Fine-tuning's overrides of the pre-training regularisation.
        Assert.AreEqual(0.05f, model.Config.FinalDropout);
        Assert.AreEqual(0.1f, model.Config.LayerDrop);
        Assert.AreEqual(0.5f, model.Config.MaskTimeProb);
        Assert.AreEqual(0f, model.Config.HiddenDropout);

        // fairseq's ids with Hugging Face's names for 0 (the blank) and 1.
        CtcTokenizer tokenizer = model.Tokenizer!;
        Assert.AreEqual(14, tokenizer.Count);
        Assert.AreEqual(0, tokenizer.PadId);
        CollectionAssert.AreEqual(new[] { "<pad>", "<s>", "</s>", "<unk>", "|", "E", "T" }, Enumerable.Range(0, 7).Select(tokenizer.Token).ToArray());

        using var reference = SafeTensorsFile.Open(FixturePath("fairseq", name + ".reference.safetensors"));
        float[] input = model.Preprocessor.Prepare(AudioFile.Read(FixturePath("reference_audio.wav")));
        AssertClose(reference.Read("input_values").Span, input, 1e-5f, $"{name} input values");
        var (logits, output, _) = model.Forward(Tensor.FromArray(input, 1, input.Length),
            options: new Wav2Vec2ForwardOptions { OutputHiddenStates = true });
        for (int i = 0; i < output.HiddenStates.Count; i++)
            AssertClose(reference.Read($"hidden_states.{i}").Span, output.HiddenStates[i].Span, Tolerance, $"{name} hidden_states[{i}]");
        AssertClose(reference.Read("logits").Span, logits.Span, Tolerance, $"{name} logits");
    }

    [TestMethod]
    public void APreTrainedCheckpointLoadsTheBackboneAndTheQuantizer()
    {
        string checkpoint = FixturePath("fairseq", "pretrained_args.pt");
        string directory = FairseqCheckpoint.Resolve(checkpoint, cacheDirectory: TempDirectory);
        var model = Wav2Vec2ForPreTraining.FromPretrained(directory);
        Assert.IsFalse(model.Preprocessor.DoNormalize);
        Assert.AreEqual((2, 8, 16, 12), (model.Config.NumCodevectorGroups, model.Config.NumCodevectorsPerGroup, model.Config.CodevectorDim, model.Config.ProjCodevectorDim));
        using (FairseqCheckpointFile file = FairseqCheckpointFile.Open(checkpoint))
            foreach (var (stored, ours) in new[] { ("quantizer.vars", "quantizer.codevectors"), ("final_proj.weight", "project_hid.weight"),
                ("project_q.bias", "project_q.bias"), ("mask_emb", "wav2vec2.masked_spec_embed") })
                CollectionAssert.AreEqual(file.Model.Read(stored).ToArray(), model.NamedTensors().Single(t => t.Name == ours).Tensor.ToArray(), ours);

        var backbone = Wav2Vec2Model.FromPretrained(directory);
        using var reference = SafeTensorsFile.Open(FixturePath("fairseq", "pretrained_args.reference.safetensors"));
        AudioClip audio = AudioFile.Read(FixturePath("reference_audio.wav"));
        for (int layer = 0; layer <= backbone.Config.NumHiddenLayers; layer++)
            AssertClose(reference.Read($"hidden_states.{layer}").Span, backbone.ExtractFeatures(audio, layer).Span, Tolerance, $"layer {layer}");
    }

    [TestMethod]
    public void FromPretrainedTakesTheCheckpointPathAndConvertsItOnce()
    {
        string checkpoint = Path.Combine(TempDirectory, "wav2vec_small_960h.pt");
        File.Copy(FixturePath("fairseq", "ctc_args", "checkpoint.pt"), checkpoint);
        File.Copy(FixturePath("fairseq", "ctc_args", "dict.ltr.txt"), Path.Combine(TempDirectory, "dict.ltr.txt"));
        string cache = Path.Combine(TempDirectory, "cache");
        string directory = FairseqCheckpoint.Resolve(checkpoint, cacheDirectory: cache);
        DateTime converted = File.GetLastWriteTimeUtc(Path.Combine(directory, "model.safetensors"));
        Assert.AreEqual(directory, FairseqCheckpoint.Resolve(checkpoint, cacheDirectory: cache), "reused while unchanged");
        Assert.AreEqual(converted, File.GetLastWriteTimeUtc(Path.Combine(directory, "model.safetensors")));
        Assert.AreEqual(1, Directory.GetDirectories(cache).Length, "no temporary directory left");

        // A changed dictionary is another conversion.
        File.AppendAllText(Path.Combine(TempDirectory, "dict.ltr.txt"), "");
        File.SetLastWriteTimeUtc(Path.Combine(TempDirectory, "dict.ltr.txt"), DateTime.UtcNow.AddMinutes(1));
        Assert.AreNotEqual(directory, FairseqCheckpoint.Resolve(checkpoint, cacheDirectory: cache));

        // The default cache, as every FromPretrained uses it.
        var model = Wav2Vec2ForCtc.FromPretrained(checkpoint);
        Assert.AreEqual(14, model.Config.VocabSize);
        StringAssert.Contains(File.ReadAllText(Path.Combine(PretrainedDirectory.Resolve(checkpoint), "config.json")), "\"Wav2Vec2ForCTC\"");
    }

    [TestMethod]
    public void AnExplicitDictionaryWinsAndAMismatchingOneIsNamed()
    {
        string checkpoint = FixturePath("fairseq", "ctc_dict_cfg", "checkpoint.pt");
        string dictionary = Path.Combine(TempDirectory, "dict.ltr.txt");
        File.WriteAllLines(dictionary, ["| 10", "A 9", "B 8", "C 7", "D 6", "E 5", "F 4", "G 3", "H 2", "I 1"]);
        string output = Path.Combine(TempDirectory, "converted");
        FairseqCheckpoint.ConvertToHuggingFace(checkpoint, output, dictionary);
        Assert.AreEqual("B", CtcTokenizer.Load(output).Token(6));

        File.WriteAllLines(dictionary, ["| 10", "A 9"]);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => FairseqCheckpoint.ConvertToHuggingFace(checkpoint, Path.Combine(TempDirectory, "other"), dictionary));
        Assert.AreEqual($"{dictionary}: 6 symbols with fairseq's 4 specials, but the checkpoint's w2v_encoder.proj has 14 outputs: the dictionary does not belong to this model", error.Message);
        File.WriteAllLines(dictionary, ["| 10", "A"]);
        error = Assert.ThrowsExactly<InvalidDataException>(() => FairseqCheckpoint.ConvertToHuggingFace(checkpoint, Path.Combine(TempDirectory, "other"), dictionary));
        Assert.AreEqual($"{dictionary}:2: expected '<symbol> <count>', got 'A'", error.Message);
        Assert.IsFalse(Directory.Exists(Path.Combine(TempDirectory, "other")), "nothing written");
    }

    [TestMethod]
    [DataRow("seq2seq.pt", "cfg.model._name is 'wav2vec_seq2seq': only fairseq wav2vec 2.0 checkpoints are read (wav2vec2 pre-trained, wav2vec_ctc fine-tuned)")]
    [DataRow("no_w2v_args.pt", "cfg.model.w2v_args is empty: the checkpoint does not hold its pre-training configuration (fairseq reads it from w2v_path '/checkpoint/pretrained/checkpoint_best.pt'), so its architecture is unknown")]
    [DataRow("conformer.pt", "cfg.model.w2v_args.model.layer_type is 'conformer': only 'transformer' is supported")]
    [DataRow("evil.pt", "refusing global 'posix.system'")]
    public void UnsupportedOrHostileCheckpointsAreRefusedInOneLine(string file, string expected)
    {
        string path = FixturePath("fairseq", "bad", file);
        string output = Path.Combine(TempDirectory, "out");
        var error = Assert.ThrowsExactly<InvalidDataException>(() => FairseqCheckpoint.ConvertToHuggingFace(path, output));
        StringAssert.StartsWith(error.Message, path + ": ");
        StringAssert.Contains(error.Message, expected);
        Assert.IsFalse(error.Message.Contains('\n'));
        Assert.IsFalse(Directory.Exists(output));
    }

    [TestMethod]
    public void NoDictionaryAnywhereIsNamed()
    {
        string checkpoint = Path.Combine(TempDirectory, "checkpoint.pt");
        File.Copy(FixturePath("fairseq", "ctc_args", "checkpoint.pt"), checkpoint);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => FairseqCheckpoint.ConvertToHuggingFace(checkpoint, Path.Combine(TempDirectory, "out")));
        Assert.AreEqual($"{checkpoint}: no CTC dictionary: the checkpoint stores none and there is no dict.ltr.txt beside it (give the fine-tuning dictionary: --dict, or the dictionary argument)", error.Message);
    }

    [TestMethod]
    [DataRow("[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] * 2", 7)]
    [DataRow("[(512, 10, 5)] + [(512, 8, 4)] + [(512, 4, 2)] * 3 + [(512, 1, 1)]", 6)]
    public void FairseqNamesMapOntoHuggingFacesAndConvLayerExpressionsAreRead(string expression, int layers)
    {
        Assert.AreEqual("wav2vec2.feature_extractor.conv_layers.3.layer_norm.bias", FairseqCheckpoint.HuggingFaceName("w2v_encoder.w2v_model.feature_extractor.conv_layers.3.2.1.bias"));
        Assert.AreEqual("wav2vec2.feature_extractor.conv_layers.0.layer_norm.weight", FairseqCheckpoint.HuggingFaceName("feature_extractor.conv_layers.0.2.weight"));
        Assert.AreEqual("wav2vec2.encoder.layers.11.feed_forward.output_dense.weight", FairseqCheckpoint.HuggingFaceName("encoder.layers.11.fc2.weight"));
        Assert.AreEqual("wav2vec2.encoder.layers.0.layer_norm.bias", FairseqCheckpoint.HuggingFaceName("encoder.layers.0.self_attn_layer_norm.bias"));
        Assert.AreEqual("wav2vec2.encoder.pos_conv_embed.conv.weight_g", FairseqCheckpoint.HuggingFaceName("encoder.pos_conv.0.weight_g"));
        Assert.AreEqual("lm_head.weight", FairseqCheckpoint.HuggingFaceName("w2v_encoder.proj.weight"));
        Assert.AreEqual(layers, FairseqSettings.ParseConvLayers(expression).Dims.Length);
    }
}
