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

    private static string Existing(string path, string what) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{what} file '{path}' does not exist");
}
