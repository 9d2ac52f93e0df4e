using System.Text.Json;
using Wav2Vec2.Models;

namespace Wav2Vec2.Decoding;

/// <summary>
/// Which decoder to build, in terms a command line or a saved pipeline can carry: greedy (the default), or CTC beam
/// search when <see cref="BeamSearch"/> or a language model is given, lexicon-free or constrained to
/// <see cref="LexiconPath"/>, with the n-gram language model of <see cref="LanguageModelPath"/> (ARPA, plain or gzip).
/// </summary>
/// <example><code>
/// var settings = new CtcDecoderSettings { LanguageModelPath = "4gram.arpa.gz", BeamSearch = new BeamSearchOptions { LanguageModelWeight = 0.8f } };
/// var recognizer = new SpeechRecognizer(model, settings.Create(model.Tokenizer!));
/// </code></example>
public sealed record CtcDecoderSettings
{
    /// <summary>ARPA n-gram language model (null: none).</summary>
    public string? LanguageModelPath { get; init; }

    /// <summary>Lexicon file of <c>word&lt;TAB&gt;spelling</c> lines restricting the words (null: lexicon-free).</summary>
    public string? LexiconPath { get; init; }

    /// <summary>Beam-search settings (null with no language model or lexicon: greedy decoding).</summary>
    public BeamSearchOptions? BeamSearch { get; init; }

    /// <summary>True when <see cref="Create"/> builds a beam-search decoder.</summary>
    public bool UsesBeamSearch => BeamSearch != null || LanguageModelPath != null || LexiconPath != null;

    /// <summary>Builds the decoder (loading the language model and lexicon files) over <paramref name="tokenizer"/>'s vocabulary.</summary>
    /// <exception cref="FileNotFoundException">A language model or lexicon file does not exist.</exception>
    /// <exception cref="InvalidDataException">A malformed language model or lexicon (the message names the line).</exception>
    public ICtcDecoder Create(CtcTokenizer tokenizer)
    {
        if (!UsesBeamSearch)
            return new GreedyCtcDecoder(tokenizer);
        ILanguageModel? languageModel = LanguageModelPath == null ? null : NGramLanguageModel.Load(Existing(LanguageModelPath, "language model"));
        BeamSearchOptions options = BeamSearch ?? new BeamSearchOptions();
        return LexiconPath == null
            ? new CtcBeamSearchDecoder(tokenizer, languageModel, options)
            : new CtcBeamSearchDecoder(tokenizer, Lexicon.Load(Existing(LexiconPath, "lexicon"), tokenizer), languageModel, options);
    }

    /// <summary>
    /// Beam search with the n-gram model of a <c>*ProcessorWithLM</c> repo's <c>language_model</c> folder (pyctcdecode's
    /// layout: attrs.json, unigrams.txt and one n-gram file of any name): its ARPA file (plain or gzip), with
    /// attrs.json's alpha, beta, unk_score_offset and score_boundary as <see cref="BeamSearch"/>'s weights (same units:
    /// alpha scales log10 scores converted to natural log, beta is per word, unk_score_offset is log10). The words come
    /// from the ARPA file's unigrams, which is what unigrams.txt lists.
    /// </summary>
    /// <example><code>
    /// string model = ModelHub.Resolve("org/wav2vec2-base-with-lm", new HubOptions { IncludeLanguageModel = true });
    /// var recognizer = SpeechRecognizer.FromPretrained(model, CtcDecoderSettings.FromLanguageModelFolder(Path.Combine(model, "language_model")));
    /// </code></example>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="InvalidDataException">No attrs.json, not exactly one n-gram file, invalid attrs.json, or a KenLM
    /// binary n-gram file (ARPA is needed).</exception>
    public static CtcDecoderSettings FromLanguageModelFolder(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"language model folder '{folder}' does not exist");
        string attrs = Path.Combine(folder, "attrs.json");
        if (!File.Exists(attrs))
            throw new InvalidDataException($"{folder}: no attrs.json (not a pyctcdecode language_model folder)");
        // As pyctcdecode: hidden files and "__" files are not part of it; the n-gram file is the one left.
        string[] models = Directory.GetFiles(folder).Select(Path.GetFileName).OfType<string>()
            .Where(f => !f.StartsWith('.') && !f.StartsWith("__", StringComparison.Ordinal) && f is not ("attrs.json" or "unigrams.txt"))
            .Order(StringComparer.Ordinal).ToArray();
        if (models.Length != 1)
            throw new InvalidDataException($"{folder}: expected one n-gram file beside attrs.json and unigrams.txt, found " +
                (models.Length == 0 ? "none" : string.Join(", ", models)));
        string arpa = Path.Combine(folder, models[0]);
        if (NGramLanguageModel.IsKenLmBinary(arpa))
            throw NGramLanguageModel.KenLmBinaryError(arpa);
        var defaults = new BeamSearchOptions();   // pyctcdecode's defaults where attrs.json is silent
        try
        {
            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(attrs));
            JsonElement root = json.RootElement;
            float Number(string key, float fallback) => root.TryGetProperty(key, out JsonElement v) ? v.GetSingle() : fallback;
            return new CtcDecoderSettings
            {
                LanguageModelPath = arpa,
                BeamSearch = defaults with
                {
                    LanguageModelWeight = Number("alpha", defaults.LanguageModelWeight),
                    WordInsertionBonus = Number("beta", defaults.WordInsertionBonus),
                    UnknownWordScore = Number("unk_score_offset", defaults.UnknownWordScore),
                    ScoreSentenceBoundaries = !root.TryGetProperty("score_boundary", out JsonElement b) || b.GetBoolean(),
                },
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{attrs}: not a valid pyctcdecode attrs.json ({e.Message})");
        }
    }

    private static string Existing(string path, string what) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{what} file '{path}' does not exist");
}
