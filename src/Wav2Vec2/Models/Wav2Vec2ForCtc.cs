using Wav2Vec2.Autograd;
using Wav2Vec2.IO;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>What <see cref="Wav2Vec2ForCtc.Forward"/> returns (Hugging Face's CausalLMOutput).</summary>
/// <param name="Logits">(batch, frames, vocab_size) logits.</param>
/// <param name="Hidden">The backbone's output (hidden states, valid frames of each utterance).</param>
/// <param name="Loss">The scalar CTC loss when labels were given (reduced as config.json's ctc_loss_reduction says), else null.</param>
public sealed record CtcOutput(Tensor Logits, Wav2Vec2Output Hidden, Tensor? Loss = null)
{
    /// <summary>Valid frames of each utterance.</summary>
    public int[] FrameLengths => Hidden.FrameLengths;
}

/// <summary>
/// wav2vec 2.0 with a CTC head (Hugging Face Wav2Vec2ForCTC): the backbone under "wav2vec2." and a linear
/// <c>lm_head</c> from hidden_size to vocab_size. Loads published checkpoints such as facebook/wav2vec2-base-960h;
/// Inference.SpeechRecognizer turns its logits into text, and Training.CtcFineTuner trains it with the CTC loss.
/// </summary>
/// <example><code>
/// var asr = Wav2Vec2ForCtc.FromPretrained("wav2vec2-base-960h");
/// CtcOutput output = asr.Forward(inputValues, labels: [[7, 4, 12]]);   // logits and the CTC loss
/// </code></example>
public sealed class Wav2Vec2ForCtc : Wav2Vec2TaskModel
{
    private Nn.Linear _lmHead;   // replaced when an adapter's language has a vocabulary of another size

    /// <summary>Checkpoint prefixes of this head's tensors (beside the backbone under "wav2vec2.").</summary>
    internal static readonly string[] HeadTensorPrefixes = ["lm_head."];

    /// <summary>Builds a randomly initialised model.</summary>
    public Wav2Vec2ForCtc(Wav2Vec2Config config, RandomSource random) : base(config, random)
    {
        _lmHead = AddModule("lm_head", new Nn.Linear(config.HiddenSize, config.VocabSize, random, normalStd: config.InitializerRange));
    }

    /// <summary>The vocabulary (vocab.json), needed to transcribe (see Inference.SpeechRecognizer) and to fine-tune.</summary>
    public CtcTokenizer? Tokenizer { get; set; }

    private protected override string ArchitectureName => Config.ClassPrefix + "ForCTC";

    /// <summary>Loads a Hugging Face model directory (config.json, weights, preprocessor_config.json, vocab.json).</summary>
    /// <exception cref="InvalidDataException">A missing or malformed file, or a vocab.json whose size is not the head's.</exception>
    /// <param name="directory">The model directory, or a Hugging Face repo id ("org/name", fetched through the hub
    /// cache: <see cref="ModelHub"/>).</param>
    /// <param name="strict">Require every tensor; false starts a CTC head from a pre-trained backbone checkpoint,
    /// leaving the head randomly initialised.</param>
    public static Wav2Vec2ForCtc FromPretrained(string directory, bool strict = true) => FromPretrained(directory, strict, out _);

    /// <summary>As <see cref="FromPretrained(string, bool)"/>, also reporting missing and ignored tensors.</summary>
    public static Wav2Vec2ForCtc FromPretrained(string directory, bool strict, out LoadReport report)
    {
        directory = PretrainedDirectory.Resolve(directory);
        Wav2Vec2ForCtc model = Load(directory, strict, (config, random) => new Wav2Vec2ForCtc(config, random), out report);
        if (File.Exists(Path.Combine(directory, "vocab.json")) && CtcTokenizer.Languages(directory).Count == 0)
        {
            CtcTokenizer tokenizer = CtcTokenizer.Load(directory);
            // Checked here, not when the first logits meet the decoder: one token per output of the CTC head.
            if (tokenizer.Count != model.Config.VocabSize)
                throw new InvalidDataException($"{directory}: vocab.json holds {tokenizer.Count} token ids but the CTC head " +
                    $"(config.json vocab_size) has {model.Config.VocabSize} outputs: the vocabulary does not belong to this model");
            model.Tokenizer = tokenizer;
        }
        return model;
    }

    /// <summary>
    /// A model to transcribe or align with: loaded from <paramref name="directory"/>, switched to
    /// <paramref name="language"/> (MMS), and holding a vocabulary.
    /// </summary>
    internal static Wav2Vec2ForCtc WithVocabulary(string directory, string? language, string purpose)
    {
        var model = FromPretrained(directory);
        IReadOnlyList<string> languages = CtcTokenizer.Languages(PretrainedDirectory.Resolve(directory));
        if (language != null)
            model.LoadAdapter(language);
        else if (languages.Count > 0)
            throw new InvalidDataException($"{directory}: a multilingual model ({languages.Count} languages: " +
                $"{string.Join(", ", languages.Take(8))}{(languages.Count > 8 ? ", ..." : "")}): choose a language");
        return model.Tokenizer != null ? model
            : throw new FileNotFoundException($"{directory}: no vocab.json (a CTC vocabulary is needed to {purpose})");
    }

    /// <summary>The language whose adapters, head and vocabulary <see cref="LoadAdapter"/> loaded last (MMS), or null.</summary>
    public string? TargetLanguage { get; internal set; }

    // A language's adapters and CTC head under Hugging Face's names: what adapter.<language>.safetensors holds.
    private IEnumerable<(string Name, Parameter Parameter)> Adapters() => NamedParameters()
        .Where(p => p.Name.Contains(".adapter_layer.", StringComparison.Ordinal) || p.Name.StartsWith("lm_head.", StringComparison.Ordinal));

    /// <summary>The parameters adapter fine-tuning trains: every layer's adapter and the CTC head.</summary>
    internal IReadOnlyList<Parameter> AdapterParameters() => [.. Adapters().Select(p => p.Parameter)];

    /// <summary>
    /// Switches an MMS model (config.json adapter_attn_dim) to <paramref name="language"/> without reloading the backbone,
    /// as Hugging Face's load_adapter does: the Transformer layers' adapters and the CTC head from the model directory's
    /// adapter.&lt;language&gt;.safetensors (the head takes that language's vocabulary size), and the vocabulary from its
    /// multilingual vocab.json.
    /// </summary>
    /// <example><code>
    /// var mms = Wav2Vec2ForCtc.FromPretrained("facebook/mms-1b-all");
    /// mms.LoadAdapter("fra");
    /// string text = new SpeechRecognizer(mms).Transcribe(AudioFile.Read("bonjour.wav"));
    /// </code></example>
    /// <exception cref="InvalidOperationException">The model has no adapters or was not loaded from a directory.</exception>
    /// <exception cref="InvalidDataException">No adapter file for the language (the message lists those there are), or one
    /// whose tensors are not this model's adapters and head.</exception>
    public void LoadAdapter(string language)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        if (Config.AdapterAttnDim == null || !Config.DoStableLayerNorm)
            throw new InvalidOperationException("the model has no language adapters (config.json adapter_attn_dim, pre-LN layers)");
        string directory = Backbone.SourceDirectory
            ?? throw new InvalidOperationException("the model was not loaded from a directory, which holds the adapter files");
        int vocabulary = PretrainedDirectory.AdapterVocabularySize(directory, language, Config.HiddenSize);
        if (vocabulary != Config.VocabSize)
        {
            Config.VocabSize = vocabulary;
            _lmHead = ReplaceModule("lm_head", new Nn.Linear(Config.HiddenSize, vocabulary, Backbone.Random));
        }
        PretrainedDirectory.LoadAdapter(this, directory, language);
        if (CtcTokenizer.Languages(directory).Count > 0)
        {
            CtcTokenizer tokenizer = CtcTokenizer.Load(directory, language);
            if (tokenizer.Count != vocabulary)
                throw new InvalidDataException($"{directory}: the vocabulary of '{language}' holds {tokenizer.Count} token ids but its adapter's head has {vocabulary} outputs");
            Tokenizer = tokenizer;
        }
        TargetLanguage = language;
    }

    /// <summary>
    /// As the base, plus, when the model has a vocabulary, vocab.json, tokenizer_config.json and special_tokens_map.json, and for a
    /// model switched to a language (MMS), its adapter.&lt;language&gt;.safetensors:
    /// a directory that transformers' Wav2Vec2ForCTC and torchaudio's import_huggingface_model load.
    /// </summary>
    public override void SavePretrained(string directory, Precision precision)
    {
        base.SavePretrained(directory, precision);
        Tokenizer?.Save(directory);
        if (TargetLanguage != null && Config.AdapterAttnDim != null)
            SafeTensorsWriter.Write(Path.Combine(directory, $"adapter.{TargetLanguage}.safetensors"),
                Adapters().Select(p => (p.Name, (Tensor)p.Parameter)));
    }

    /// <summary>
    /// CTC logits (batch, frames, vocab_size) of normalised input values (batch, samples) and, when
    /// <paramref name="labels"/> are given (token ids without blanks, one array per utterance), the CTC loss with
    /// blank = pad_token_id, config.json's ctc_loss_reduction and ctc_zero_infinity, and each utterance's valid frames
    /// from <see cref="Wav2Vec2ForwardOptions.SampleLengths"/> (Hugging Face's Wav2Vec2ForCTC loss; fairseq's CTC
    /// criterion with reduction "sum").
    /// </summary>
    /// <exception cref="ArgumentException">Label count differs from the batch, or a label is not a non-blank token id.</exception>
    public CtcOutput Forward(Tensor inputValues, IReadOnlyList<int[]>? labels = null, Wav2Vec2ForwardOptions? options = null)
    {
        if (labels != null && labels.Count != inputValues.Size(0))
            throw new ArgumentException($"{labels.Count} label sequences for a batch of {inputValues.Size(0)}");
        Wav2Vec2Output output = ForwardBackbone(inputValues, options);
        Tensor logits = _lmHead.Forward(Dropout(output.LastHiddenState, Config.FinalDropout, Backbone.Random));
        if (labels == null)
            return new CtcOutput(logits, output);
        int[] targets = labels.SelectMany(l => l).ToArray(), lengths = labels.Select(l => l.Length).ToArray();
        Tensor loss = Ops.CtcLoss(Ops.LogSoftmax(logits), targets, lengths, output.FrameLengths, Config.PadTokenId,
            Config.CtcLossReduction, Config.CtcZeroInfinity);
        return new CtcOutput(logits, output, loss);
    }
}
