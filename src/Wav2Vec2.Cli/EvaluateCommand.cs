using System.CommandLine;
using System.Globalization;
using Wav2Vec2.Data;
using Wav2Vec2.Decoding;
using Wav2Vec2.IO;
using Wav2Vec2.Inference;

namespace Wav2Vec2.Cli;

/// <summary>`w2v2 evaluate`: word and character error rates of a CTC model on a labeled dataset.</summary>
internal static class EvaluateCommand
{
    public static Command Create(TextWriter output)
    {
        Option<string> model = ModelCommands.ModelOption();
        var data = new Option<string>("--data") { Description = "Labeled audio: Common Voice .tsv, audio folder (metadata.csv), LibriSpeech-style directory, fairseq manifest with .wrd/.ltr, or path<TAB>transcript .tsv.", Required = true };
        var outPath = new Option<string?>("--out") { Description = "TSV with a header and one line per utterance: id, reference, hypothesis and error counts." };
        Option<double> chunk = ModelCommands.ChunkOption();
        var decoding = new DecoderFlags();
        var command = new Command("evaluate", "Transcribe a labeled dataset (greedy, or beam search with --lm/--beam-width) and print WER and CER with substitutions, deletions and insertions.")
        {
            model, data, outPath, chunk,
        };
        foreach (Option option in decoding.All)
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            string? target = parse.GetValue(outPath) is string path ? ModelCommands.OutputPath(path) : null;
            SpeechRecognizer recognizer = decoding.Recognizer(parse, model);
            AudioDataset dataset = DatasetSource.Transcribed(parse.GetValue(data)!);
            foreach (string skipped in dataset.Skipped)
                output.WriteLine($"warning: skipped {skipped}");
            var results = new List<TranscriptionResult>();
            foreach (AudioEntry entry in dataset.Entries)
                results.Add(TranscriptionResult.Score(Path.GetFileNameWithoutExtension(entry.Path), entry.Transcript!,
                    Transcribe(recognizer, entry, ModelCommands.Chunking(parse.GetValue(chunk)))));
            var metrics = TranscriptionMetrics.From(results);
            output.WriteLine($"utterances: {metrics.Utterances}");
            output.WriteLine(Line("WER", metrics.Words, "words"));
            output.WriteLine(Line("CER", metrics.Characters, "characters"));
            if (target != null)
            {
                TranscriptionResult.WriteTsv(target, results);
                output.WriteLine($"{target}: {results.Count} utterances");
            }
            return 0;
        });
        return command;
    }

    private static string Transcribe(SpeechRecognizer recognizer, AudioEntry entry, ChunkingOptions chunking)
    {
        try
        {
            return recognizer.Transcribe(entry.Path, chunking, Interruption.Token);
        }
        catch (ArgumentException e) when (e.Message.Contains("too short", StringComparison.Ordinal))
        {
            throw new CliException($"{entry.Path}: {e.Message}");
        }
    }

    private static string Line(string name, EditCounts counts, string units) => string.Create(CultureInfo.InvariantCulture,
        $"{name}: {counts.Rate:P2} ({counts.Errors} errors in {counts.ReferenceLength} {units}: {counts.Substitutions} substitutions, " +
        $"{counts.Deletions} deletions, {counts.Insertions} insertions)");
}
