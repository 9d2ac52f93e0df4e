using System.CommandLine;
using System.Globalization;
using System.Text;
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.IO;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Cli;

/// <summary>The model commands: features, logits, transcribe, init, convert, inspect.</summary>
internal static class ModelCommands
{
    internal static Option<string> ModelOption() => new("--model")
    {
        Description = "Hugging Face model directory (config.json + weights), a repo id such as facebook/wav2vec2-base-960h " +
                      "(fetched through the Hugging Face cache; HF_TOKEN, HF_HUB_OFFLINE and the other HF_* variables apply), " +
                      "or a fairseq wav2vec 2.0 checkpoint (.pt; its dict.ltr.txt beside it), converted once into a cache.",
        Required = true,
    };

    internal static Option<double> ChunkOption() => new("--chunk-seconds")
    {
        Description = "Process recordings longer than this in overlapping windows (0: one pass).",
        DefaultValueFactory = _ => 30,
    };

    internal static Option<string?> PrecisionOption() => new Option<string?>("--precision")
    {
        Description = "Inference arithmetic: fp32; int8 (linear layers and convolutions quantised; needs AVX2, else fp32); " +
                      "bf16 (linear weights in bfloat16, fp32 arithmetic); docs/performance.md has speed and accuracy. " +
                      "Default: the model's (int8 or bf16 after w2v2 quantize).",
    }.AcceptOnlyFromAmong("fp32", "int8", "bf16");

    /// <summary>The precision a --precision value names.</summary>
    internal static Nn.Precision ParsePrecision(string name) => name switch
    {
        "int8" => Nn.Precision.Int8,
        "bf16" => Nn.Precision.BFloat16,
        _ => Nn.Precision.Float32,
    };

    /// <summary>The --precision name of a precision.</summary>
    internal static string PrecisionName(Nn.Precision precision) => precision switch
    {
        Nn.Precision.Int8 => "int8",
        Nn.Precision.BFloat16 => "bf16",
        _ => "fp32",
    };

    /// <summary>Puts <paramref name="model"/> in the precision --precision names (left as loaded without the flag).</summary>
    internal static T WithPrecision<T>(T model, ParseResult parse, Option<string?> precision) where T : Nn.Module
    {
        if (parse.GetValue(precision) is not string requested)
            return model;
        if (model.HeldPrecision is Nn.Precision held && held != ParsePrecision(requested))
            throw new CliException($"--precision {requested}: this model is stored in {PrecisionName(held)} " +
                "(w2v2 quantize wrote it); use the fp32 model it came from");
        model.UsePrecision(ParsePrecision(requested));
        return model;
    }

    public static Command Features(TextWriter output, TextWriter error)
    {
        Option<string> model = ModelOption();
        var audio = new Option<string>("--audio") { Description = "Audio file (WAV, FLAC, MP3, Ogg Vorbis or Opus, AIFF).", Required = true };
        var outPath = new Option<string>("--out") { Description = "Output .npy file: float32 (frames, hidden_size).", Required = true };
        var layer = new Option<int?>("--layer") { Description = "Hidden state index: 0 = encoder input, num_hidden_layers = last (default)." };
        Option<double> chunk = ChunkOption();
        Option<string?> precision = PrecisionOption();
        var command = new Command("features", "Write the hidden states of one layer for a recording.") { model, audio, outPath, layer, chunk, precision };
        command.SetAction(parse =>
        {
            string target = OutputPath(parse.GetValue(outPath)!);
            var backbone = Wav2Vec2Model.FromPretrained(ModelSource.Resolve(parse.GetValue(model)!), strict: true, out LoadReport report);
            ReportLoad(parse, report, error);
            WithPrecision(backbone, parse, precision);
            int? index = parse.GetValue(layer);
            if (index is int n && (n < 0 || n > backbone.Config.NumHiddenLayers))
                throw new CliException($"--layer must be in [0, {backbone.Config.NumHiddenLayers}], got {n}");
            // Rows go to the file chunk by chunk: a long recording's features are never all in memory.
            string file = parse.GetValue(audio)!;
            AudioClip clip = ReadAudio(file);
            int width = backbone.Config.HiddenSize;
            int frames = NamingTheFile(file, () => Npy.WriteRows(target, width,
                append => backbone.StreamFeatures(clip, append, index, Chunking(parse.GetValue(chunk)), cancellationToken: Interruption.Token)));
            output.WriteLine($"{target}: {frames} frames x {width} (layer {index ?? backbone.Config.NumHiddenLayers})");
            return 0;
        });
        return command;
    }

    public static Command Logits(TextWriter output)
    {
        Option<string> model = ModelOption();
        var audio = new Option<string>("--audio") { Description = "Audio file (WAV, FLAC, MP3, Ogg Vorbis or Opus, AIFF).", Required = true };
        var outPath = new Option<string>("--out") { Description = "Output .npy file: float32 (frames, vocab_size).", Required = true };
        Option<double> chunk = ChunkOption();
        Option<string?> precision = PrecisionOption();
        var command = new Command("logits", "Write the CTC logits of a recording.") { model, audio, outPath, chunk, precision };
        command.SetAction(parse =>
        {
            string target = OutputPath(parse.GetValue(outPath)!);
            var ctc = WithPrecision(Wav2Vec2ForCtc.FromPretrained(ModelSource.Resolve(parse.GetValue(model)!)), parse, precision);
            string file = parse.GetValue(audio)!;
            AudioClip clip = ReadAudio(file);
            Tensor logits = NamingTheFile(file, () => ctc.Logits(clip, Chunking(parse.GetValue(chunk)), cancellationToken: Interruption.Token));
            Npy.Write(target, logits);
            output.WriteLine($"{target}: {logits.Size(0)} frames x {logits.Size(1)} classes");
            return 0;
        });
        return command;
    }

    public static Command Transcribe(TextWriter output, TextWriter error)
    {
        Option<string> model = ModelOption();
        var audio = new Option<string[]>("--audio") { Description = "Audio file(s).", Required = true, AllowMultipleArgumentsPerToken = true };
        Option<double> chunk = ChunkOption();
        var decoding = new DecoderFlags();
        var formats = new TimestampFlags("text", "text", "json", "srt", "vtt", "tsv");
        var command = new Command("transcribe", "Print the transcript of each recording (greedy, or beam search with --lm/--beam-width), " +
            "one line per file, or with word and character times (--timestamps, --format json|srt|vtt|tsv). A file that fails is " +
            "reported by name and the others go on; the exit code is 1 if any failed.")
        {
            model, audio, chunk,
        };
        foreach (Option option in decoding.All.Concat(formats.All))
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            string[] files = parse.GetValue(audio)!;
            string? target = formats.Check(parse, files.Length);
            SpeechRecognizer recognizer = decoding.Recognizer(parse, model);
            ChunkingOptions chunking = Chunking(parse.GetValue(chunk));
            var text = new StringBuilder();
            int failed = 0;
            foreach (string file in files)
            {
                try
                {
                    AudioClip clip = ReadAudio(file);
                    if (formats.Timed(parse))
                        text.Append(formats.Render(parse, file, recognizer.TranscribeWithTimestamps(clip, chunking, Interruption.Token)));
                    else
                        text.Append(files.Length == 1 ? "" : $"{file}\t").Append(recognizer.Transcribe(clip, chunking, Interruption.Token)).Append('\n');
                }
                catch (Exception e) when (e is CliException or InvalidDataException or ArgumentException or IOException)
                {
                    error.WriteLine($"error: {file}: {e.Message}");
                    failed++;
                }
                if (target == null)
                {
                    TimestampFlags.Write(null, output, text);   // each result as soon as it is there
                    text.Clear();
                }
            }
            TimestampFlags.Write(target, output, text);
            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    public static Command Align(TextWriter output)
    {
        Option<string> model = ModelOption();
        var audio = new Option<string>("--audio") { Description = "The recording.", Required = true };
        var text = new Option<string?>("--text") { Description = "The transcript of the recording." };
        var textFile = new Option<string?>("--text-file") { Description = "A file holding the transcript of the recording." };
        var unknown = new Option<string>("--unknown")
        {
            Description = "Transcript characters outside the vocabulary: error, map (to <unk>) or drop.",
            DefaultValueFactory = _ => "error",
        };
        unknown.AcceptOnlyFromAmong("error", "map", "drop");
        Option<double> chunk = ChunkOption();
        Option<string?> language = DecoderFlags.LanguageOption();
        var formats = new TimestampFlags("json", "json", "srt", "vtt", "tsv", "text");
        var command = new Command("align", "Force-align a known transcript to a recording (CTC Viterbi; long recordings in windows) " +
            "and write each word's and character's start, end and score.") { model, audio, text, textFile, unknown, chunk, language };
        foreach (Option option in formats.All)
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            string? target = formats.Check(parse, 1);
            string transcript = (parse.GetValue(text), parse.GetValue(textFile)) switch
            {
                (string given, null) => given,
                (null, string path) => File.Exists(path) ? File.ReadAllText(path) : throw new CliException($"text file '{path}' does not exist"),
                _ => throw new CliException("give the transcript with --text or --text-file (one of them)"),
            };
            var options = new AlignmentOptions
            {
                UnknownCharacters = parse.GetValue(unknown) switch
                {
                    "map" => UnknownCharacters.MapToUnknown, "drop" => UnknownCharacters.Drop, _ => UnknownCharacters.Error,
                },
            };
            string file = parse.GetValue(audio)!;
            AudioClip clip = ReadAudio(file);
            var aligner = CtcAligner.FromPretrained(ModelSource.Resolve(parse.GetValue(model)!), options, parse.GetValue(language));
            TimedTranscript aligned = NamingTheFile(file, () => aligner.Align(clip, transcript, Chunking(parse.GetValue(chunk)), Interruption.Token));
            TimestampFlags.Write(target, output, new StringBuilder(formats.Render(parse, file, aligned)));
            return 0;
        });
        return command;
    }

    public static Command Init(TextWriter output)
    {
        var preset = new Option<string>("--preset") { Description = "base, large or tiny.", Required = true };
        preset.AcceptOnlyFromAmong("base", "large", "tiny");
        var outDir = new Option<string>("--out") { Description = "Directory to create.", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var command = new Command("init", "Write a randomly initialised model in Hugging Face format.") { preset, outDir, seed };
        command.SetAction(parse =>
        {
            string directory = parse.GetValue(outDir)!;
            if (File.Exists(directory) || (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any()))
                throw new CliException($"{directory} already exists and is not an empty directory");
            var model = new Wav2Vec2Model(Wav2Vec2Config.Preset(parse.GetValue(preset)!), new RandomSource(parse.GetValue(seed)));
            model.SavePretrained(directory);
            output.WriteLine($"{directory}: {parse.GetValue(preset)} model, {model.ParameterCount():N0} parameters");
            return 0;
        });
        return command;
    }

    public static Command Convert(TextWriter output)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "fairseq wav2vec 2.0 checkpoint (.pt): pre-trained or CTC fine-tuned.", Required = true };
        var dictionary = new Option<string?>("--dict") { Description = "The fine-tuning dictionary (dict.ltr.txt); default: the one the checkpoint stores, else dict.ltr.txt beside it." };
        var outDir = new Option<string>("--out") { Description = "Directory to write (Hugging Face layout).", Required = true };
        var command = new Command("convert", "Convert a fairseq wav2vec 2.0 checkpoint into a Hugging Face model directory.") { checkpoint, dictionary, outDir };
        command.SetAction(parse =>
        {
            string source = parse.GetValue(checkpoint)!, directory = parse.GetValue(outDir)!;
            if (!File.Exists(source))
                throw new CliException($"{source}: no such file");
            if (File.Exists(directory) || (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any()))
                throw new CliException($"{directory} already exists and is not an empty directory");
            try
            {
                FairseqCheckpoint.ConvertToHuggingFace(source, directory, parse.GetValue(dictionary));
            }
            catch
            {
                if (Directory.Exists(directory))
                    Directory.Delete(directory, recursive: true);
                throw;
            }
            ModelSummary summary = ModelSummary.Read(directory);
            output.WriteLine($"{directory}: {summary.Head} model, {summary.ParameterCount:N0} parameters, from {source}");
            return 0;
        });
        return command;
    }

    public static Command Inspect(TextWriter output)
    {
        Option<string> model = ModelOption();
        var command = new Command("inspect", "Print a model directory's configuration summary and parameter count.") { model };
        command.SetAction(parse =>
        {
            string directory = ModelSource.Resolve(parse.GetValue(model)!);
            ModelSummary summary = ModelSummary.Read(directory);
            Wav2Vec2Config c = summary.Config;
            string Join(int[] values) => string.Join(",", values);
            output.WriteLine($"model:        {directory}");
            output.WriteLine($"family:       {c.ModelType}{(c.ModelType == "hubert" ? $" (feature projection layer norm {(c.FeatProjLayerNorm ? "yes" : "no")})" : "")}");
            if (c.AdapterAttnDim is int adapterDim)
                output.WriteLine($"adapters:     width {adapterDim}; languages {string.Join(", ", CtcTokenizer.Languages(directory))}");
            output.WriteLine($"transformer:  {c.NumHiddenLayers} layers x {c.HiddenSize} ({c.NumAttentionHeads} heads, feed-forward {c.IntermediateSize}), " +
                             (c.DoStableLayerNorm ? "pre-LN (stable layer norm)" : "post-LN"));
            output.WriteLine($"conv encoder: {c.ConvDim.Length} layers, dims {Join(c.ConvDim)}, kernels {Join(c.ConvKernel)}, strides {Join(c.ConvStride)}, " +
                             $"{c.FeatExtractNorm.ToString().ToLowerInvariant()} norm, bias {(c.ConvBias ? "yes" : "no")}; {c.InputsToLogitsRatio} samples per frame");
            output.WriteLine(c.ModelType == "data2vec-audio"
                ? $"positional:   {c.NumConvPosEmbeddings} convolutions of width {c.ConvPosKernelSize}, {c.NumConvPosEmbeddingGroups} groups"
                : $"positional:   conv kernel {c.NumConvPosEmbeddings}, {c.NumConvPosEmbeddingGroups} groups");
            if (c.ModelType == "wavlm")
                output.WriteLine($"attention:    gated relative position bias, {c.NumBuckets} buckets to distance {c.MaxBucketDistance}");
            if (c.ModelType == "wav2vec2")
                output.WriteLine($"quantizer:    {c.NumCodevectorGroups} x {c.NumCodevectorsPerGroup} codevectors, dim {c.CodevectorDim}");
            output.WriteLine($"head:         {summary.Head switch { "CTC" => $"CTC, vocab_size {c.VocabSize}", "none" => "none (backbone only)", string h => h }}");
            output.WriteLine($"parameters:   {summary.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} in {summary.TensorCount} tensors");
            string[] unknown = c.UnknownFields.ToArray();
            if (unknown.Length > 0)
                output.WriteLine($"other fields: {string.Join(", ", unknown)}");
            return 0;
        });
        return command;
    }

    // What the model refuses about a recording (too short for one frame, a transcript that does not fit) names it.
    private static T NamingTheFile<T>(string file, Func<T> run)
    {
        try
        {
            return run();
        }
        catch (ArgumentException e)
        {
            throw new CliException($"{file}: {e.Message}");
        }
    }

    private static AudioClip ReadAudio(string path)
    {
        if (!File.Exists(path))
            throw new CliException($"audio file '{path}' does not exist");
        AudioClip clip = AudioFile.Read(path);   // by content
        return clip.Samples.Length > 0 ? clip : throw new CliException($"audio file '{path}' holds no samples");
    }

    internal static string OutputPath(string path)
    {
        string full = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(full);
        if (directory != null && !Directory.Exists(directory))
            throw new CliException($"output directory '{directory}' does not exist");
        if (Directory.Exists(full))
            throw new CliException($"--out '{path}' is a directory");
        return full;
    }

    internal static ChunkingOptions Chunking(double seconds) => seconds >= 0
        ? new ChunkingOptions { ChunkSeconds = seconds, ContextSeconds = Math.Min(5, seconds / 6) }
        : throw new CliException($"--chunk-seconds must not be negative, got {seconds}");

    private static void ReportLoad(ParseResult parse, LoadReport report, TextWriter error)
    {
        if (parse.GetValue(CliApp.Verbose) && report.Ignored.Count > 0)
            error.WriteLine($"ignored {report.Ignored.Count} head tensor(s): {string.Join(", ", report.Ignored)}");
    }
}
