using System.CommandLine;
using Wav2Vec2.Decoding;

namespace Wav2Vec2.Cli;

/// <summary>The decoding flags shared by transcribe, evaluate and tune-lm.</summary>
internal sealed class DecoderFlags
{
    public Option<string?> LanguageModel { get; } = new("--lm") { Description = "ARPA n-gram language model (plain or .gz): decode by beam search with it." };
    public Option<string?> Lexicon { get; } = new("--lexicon") { Description = "Lexicon (word<TAB>spelling lines): only its words can be produced." };
    public Option<int?> BeamWidth { get; } = new("--beam-width") { Description = "Beam width (default 100; with no --lm, beam search without a language model)." };
    public Option<float?> LanguageModelWeight { get; } = new("--lm-weight") { Description = "Language-model weight alpha (default 0.5)." };
    public Option<float?> WordScore { get; } = new("--word-score") { Description = "Word insertion bonus beta, natural log per word (default 1.5)." };

    /// <summary>The flags to add to a command.</summary>
    public IEnumerable<Option> All => [LanguageModel, Lexicon, BeamWidth, LanguageModelWeight, WordScore];

    /// <summary>What the flags ask for: greedy unless a beam-search flag is given.</summary>
    public CtcDecoderSettings Settings(ParseResult parse)
    {
        int? width = parse.GetValue(BeamWidth);
        float? alpha = parse.GetValue(LanguageModelWeight), beta = parse.GetValue(WordScore);
        if (width is < 1)
            throw new CliException($"--beam-width must be at least 1, got {width}");
        bool beam = width != null || alpha != null || beta != null || parse.GetValue(LanguageModel) != null || parse.GetValue(Lexicon) != null;
        var defaults = new BeamSearchOptions();
        return new CtcDecoderSettings
        {
            LanguageModelPath = parse.GetValue(LanguageModel), LexiconPath = parse.GetValue(Lexicon),
            BeamSearch = beam ? defaults with
            {
                BeamWidth = width ?? defaults.BeamWidth,
                LanguageModelWeight = alpha ?? defaults.LanguageModelWeight,
                WordInsertionBonus = beta ?? defaults.WordInsertionBonus,
            } : null,
        };
    }
}
