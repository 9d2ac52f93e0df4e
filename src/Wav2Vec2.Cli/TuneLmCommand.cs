using System.CommandLine;
using System.Globalization;
using Wav2Vec2.Data;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;

namespace Wav2Vec2.Cli;

/// <summary>`w2v2 tune-lm`: grid search of the language-model weight and word score on a dev set.</summary>
internal static class TuneLmCommand
{
    public static Command Create(TextWriter output)
    {
        Option<string> model = ModelCommands.ModelOption();
        var data = new Option<string>("--data") { Description = "Labeled dev audio (never the test set): Common Voice .tsv, audio folder, LibriSpeech-style directory, manifest with .wrd/.ltr, or path<TAB>transcript .tsv.", Required = true };
        var alphas = new Option<string>("--lm-weights") { Description = "Comma-separated alphas to try.", DefaultValueFactory = _ => "0,0.25,0.5,0.75,1,1.5,2" };
        var betas = new Option<string>("--word-scores") { Description = "Comma-separated betas to try.", DefaultValueFactory = _ => "-1,0,1,2,3" };
        var decoding = new DecoderFlags();
        Option<double> chunk = ModelCommands.ChunkOption();
        var command = new Command("tune-lm", "Grid-search the language-model weight (alpha) and word score (beta) of beam-search decoding on a dev set; " +
            "the acoustic model runs once per utterance.") { model, data, alphas, betas, chunk };
        foreach (Option option in new Option[] { decoding.LanguageModel, decoding.ModelLanguageModel, decoding.Lexicon, decoding.BeamWidth })
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            float[] alphaValues = Floats(parse.GetValue(alphas)!, "--lm-weights"), betaValues = Floats(parse.GetValue(betas)!, "--word-scores");
            if (parse.GetValue(decoding.LanguageModel) == null && !parse.GetValue(decoding.ModelLanguageModel))
                throw new CliException("tune-lm needs a language model: --lm or --model-lm");
            string directory = decoding.ModelDirectory(parse, model);
            var ctc = Wav2Vec2ForCtc.FromPretrained(directory);
            if (parse.GetValue(decoding.Language) is string language)
                ctc.LoadAdapter(language);
            CtcTokenizer tokenizer = ctc.Tokenizer ?? throw new CliException($"{parse.GetValue(model)}: no vocab.json, cannot transcribe");
            var decoder = (CtcBeamSearchDecoder)decoding.Settings(parse, directory).Create(tokenizer);
            AudioDataset dev = DatasetSource.Transcribed(parse.GetValue(data)!);
            var utterances = dev.Entries.Select(e => (ctc.Logits(Audio.AudioFile.Read(e.Path), ModelCommands.Chunking(parse.GetValue(chunk)),
                cancellationToken: Interruption.Token), e.Transcript!)).ToList();
            IReadOnlyList<LanguageModelTrial> trials = decoder.TuneLanguageModel(utterances, alphaValues, betaValues);
            output.WriteLine("lm_weight\tword_score\twer\tcer");
            foreach (LanguageModelTrial t in trials.OrderBy(t => t.LanguageModelWeight).ThenBy(t => t.WordInsertionBonus))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{t.LanguageModelWeight}\t{t.WordInsertionBonus}\t{t.Metrics.WordErrorRate:F4}\t{t.Metrics.CharacterErrorRate:F4}"));
            LanguageModelTrial best = trials[0];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best: --lm-weight {best.LanguageModelWeight} --word-score {best.WordInsertionBonus} " +
                $"(WER {best.Metrics.WordErrorRate:P2}, CER {best.Metrics.CharacterErrorRate:P2} on {best.Metrics.Utterances} utterances)"));
            return 0;
        });
        return command;
    }

    private static float[] Floats(string list, string flag)
    {
        try
        {
            float[] values = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(v => float.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
            return values.Length > 0 && values.All(float.IsFinite) ? values : throw new FormatException();
        }
        catch (FormatException)
        {
            throw new CliException($"{flag} must be a comma-separated list of numbers, got '{list}'");
        }
    }
}
