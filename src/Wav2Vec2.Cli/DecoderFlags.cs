using System.CommandLine;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;

namespace Wav2Vec2.Cli;

/// <summary>The decoding flags shared by transcribe, evaluate and tune-lm (tune-lm takes the beam-search ones), and --precision.</summary>
internal sealed class DecoderFlags
{
    public Option<string?> LanguageModel { get; } = new("--lm") { Description = "ARPA n-gram language model (plain or .gz), or a pyctcdecode language_model folder: decode by beam search with it." };
    public Option<bool> ModelLanguageModel { get; } = new("--model-lm")
    {
        Description = "Decode with the model's own language_model folder (a *ProcessorWithLM model; fetched with a model given by name), " +
                      "weighted as its attrs.json says unless --lm-weight/--word-score are given.",
    };
    public Option<string?> Lexicon { get; } = new("--lexicon") { Description = "Lexicon (word<TAB>spelling lines): only its words can be produced." };
    public Option<int?> BeamWidth { get; } = new("--beam-width") { Description = "Beam width (default 100; with no --lm, beam search without a language model)." };
    public Option<float?> LanguageModelWeight { get; } = new("--lm-weight") { Description = "Language-model weight alpha (default 0.5)." };
    public Option<float?> WordScore { get; } = new("--word-score") { Description = "Word insertion bonus beta, natural log per word (default 1.5)." };

    public Option<string?> Language { get; } = LanguageOption();

    public Option<string?> Precision { get; } = ModelCommands.PrecisionOption();

    /// <summary>The flags to add to a command.</summary>
    public IEnumerable<Option> All => [LanguageModel, ModelLanguageModel, Lexicon, BeamWidth, LanguageModelWeight, WordScore, Language, Precision];

    /// <summary>--lang: the language of an MMS model (its adapters, head and vocabulary).</summary>
    public static Option<string?> LanguageOption() => new("--lang")
    {
        Description = "Language of a multilingual MMS model: loads its adapter and vocabulary (e.g. fra, as the model's adapter.<lang>.safetensors name it).",
    };

    /// <summary>The model directory of <paramref name="model"/>, fetched with its language model when --model-lm asks.</summary>
    public string ModelDirectory(ParseResult parse, Option<string> model) =>
        ModelSource.Resolve(parse.GetValue(model)!, includeLanguageModel: parse.GetValue(ModelLanguageModel));

    /// <summary>The recognizer of <paramref name="model"/> with the decoder the flags ask for.</summary>
    public SpeechRecognizer Recognizer(ParseResult parse, Option<string> model)
    {
        string directory = ModelDirectory(parse, model);
        SpeechRecognizer recognizer = SpeechRecognizer.FromPretrained(directory, Settings(parse, directory), parse.GetValue(Language));
        ModelCommands.WithPrecision(recognizer.Model, parse, Precision);
        return recognizer;
    }

    /// <summary>What the flags ask for: greedy unless a beam-search flag is given; a language_model folder's attrs.json
    /// gives the weights the flags do not.</summary>
    public CtcDecoderSettings Settings(ParseResult parse, string modelDirectory)
    {
        int? width = parse.GetValue(BeamWidth);
        float? alpha = parse.GetValue(LanguageModelWeight), beta = parse.GetValue(WordScore);
        if (width is < 1)
            throw new CliException($"--beam-width must be at least 1, got {width}");
        string? lm = parse.GetValue(LanguageModel);
        if (parse.GetValue(ModelLanguageModel))
        {
            lm = lm == null ? Path.Combine(modelDirectory, "language_model") : throw new CliException("give --lm or --model-lm, not both");
            if (!Directory.Exists(lm))
                throw new CliException($"{modelDirectory} has no language_model folder (--model-lm needs a *ProcessorWithLM model)");
        }
        CtcDecoderSettings start = lm != null && Directory.Exists(lm) ? CtcDecoderSettings.FromLanguageModelFolder(lm)
            : new CtcDecoderSettings { LanguageModelPath = lm };
        bool beam = width != null || alpha != null || beta != null || lm != null || parse.GetValue(Lexicon) != null;
        BeamSearchOptions defaults = start.BeamSearch ?? new BeamSearchOptions();
        return start with
        {
            LexiconPath = parse.GetValue(Lexicon),
            BeamSearch = beam ? defaults with
            {
                BeamWidth = width ?? defaults.BeamWidth,
                LanguageModelWeight = alpha ?? defaults.LanguageModelWeight,
                WordInsertionBonus = beta ?? defaults.WordInsertionBonus,
            } : null,
        };
    }
}
