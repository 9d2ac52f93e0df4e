using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Wav2Vec2.IO;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>
/// One zip for a whole pipeline: "wav2vec2.json" lists the parts in order; runs of ML.NET transformers are saved by
/// mlContext.Model.Save into "parts/N.zip" (with the schema they read), each audio transformer as
/// "parts/N/transform.json" (its settings) and "parts/N/model/" (a Hugging Face directory: config.json with the classes
/// of a classifier, model.safetensors, preprocessor_config.json, vocab.json: the weights themselves, so the file moves
/// between machines). The pipeline's
/// input schema is kept in "input_schema.zip", an empty ML.NET model saved with that schema.
/// </summary>
internal static class ModelArchive
{
    private const string Manifest = "wav2vec2.json", InputSchemaEntry = "input_schema.zip";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public static void Save(ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, Stream stream)
    {
        var parts = ChainParts.Flatten(model);
        var manifest = new List<PartEntry>();
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        WriteEntry(zip, InputSchemaEntry, s => catalog.Save(new TransformerChain<ITransformer>(), inputSchema, s));
        DataViewSchema schema = inputSchema;
        var run = new List<(ITransformer Transformer, TransformerScope Scope)>();
        DataViewSchema runInput = schema;
        void FlushRun()
        {
            if (run.Count == 0)
                return;
            string entry = $"parts/{manifest.Count}.zip";
            TransformerChain<ITransformer> chain = ChainParts.Chain(run);
            DataViewSchema input = runInput;
            WriteEntry(zip, entry, s => catalog.Save(chain, input, s));
            manifest.Add(new PartEntry("mlnet", entry, null, null));
            run.Clear();
        }
        foreach (var (transformer, scope) in parts)
        {
            if (transformer is AudioTransformerBase audio)
            {
                FlushRun();
                string prefix = $"parts/{manifest.Count}/";
                manifest.Add(new PartEntry(audio switch
                {
                    Wav2Vec2FeaturesTransformer => "features",
                    Wav2Vec2TranscribeTransformer => "transcribe",
                    Wav2Vec2AudioClassificationTransformer => "classification",
                    Wav2Vec2AlignTransformer => "align",
                    _ => "load_audio",
                }, prefix, scope, WriteDecoderFiles(zip, prefix, Settings(audio))));
                WriteModel(zip, prefix + "model/", audio.Mapper);
            }
            else
            {
                if (run.Count == 0)
                    runInput = schema;
                run.Add((transformer, scope));
            }
            schema = transformer.GetOutputSchema(schema);
        }
        FlushRun();
        WriteEntry(zip, Manifest, s => JsonSerializer.Serialize(s, new ArchiveManifest(1, manifest), Json), CompressionLevel.Optimal);
    }

    public static ITransformer Load(ModelOperationsCatalog catalog, Stream stream, out DataViewSchema inputSchema)
    {
        IHostEnvironment? environment = MLNetInterop.Environment(catalog);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        ArchiveManifest manifest = JsonSerializer.Deserialize<ArchiveManifest>(Read(zip, Manifest), Json)
            ?? throw new InvalidDataException($"{Manifest} is empty");
        if (manifest.Format != 1)
            throw new InvalidDataException($"this file has format {manifest.Format}; this version of Wav2Vec2.MLNet reads format 1");
        catalog.Load(Read(zip, InputSchemaEntry), out inputSchema);
        var parts = new List<(ITransformer, TransformerScope)>();
        foreach (PartEntry part in manifest.Parts)
        {
            if (part.Kind == "mlnet")
                parts.AddRange(ChainParts.Flatten(catalog.Load(Read(zip, part.Entry), out _)));
            else
                parts.Add((LoadAudioTransformer(zip, part, environment), part.Scope ?? TransformerScope.Everything));
        }
        return ChainParts.Chain(parts);
    }

    private static PartSettings Settings(AudioTransformerBase audio)
    {
        AudioInputSettings input = audio.Mapper.Input;
        var settings = new PartSettings(input.InputColumnName, input.AudioFolder, input.BadAudio, input.BatchSize) { Precision = input.Precision };
        return audio.Mapper switch
        {
            FeaturesMapper f => settings with { Features = f.Settings },
            TranscribeMapper t => settings with { Transcribe = t.Settings },
            ClassificationMapper c => settings with { Classification = c.Settings },
            AlignMapper a => settings with { Align = a.Settings },
            AudioLoadingMapper l => settings with { OutputColumnName = l.OutputColumnName },
            _ => throw new InvalidOperationException($"unknown audio transformer {audio.GetType().Name}"),
        };
    }

    private static AudioTransformerBase LoadAudioTransformer(ZipArchive zip, PartEntry part, IHostEnvironment? environment)
    {
        PartSettings s = part.Settings ?? throw new InvalidDataException($"{part.Entry}: no settings");
        var input = new AudioInputSettings(s.InputColumnName, s.AudioFolder, s.BadAudio, s.BatchSize, environment, default)
        {
            Precision = s.Precision,
        };
        if (part.Kind == "load_audio")
            return new AudioLoadingTransformer(new AudioLoadingMapper(input, s.OutputColumnName!));
        string directory = Extract(zip, part.Entry + "model/");
        try
        {
            return part.Kind switch
            {
                "features" => new Wav2Vec2FeaturesTransformer(new FeaturesMapper(input,
                    Wav2Vec2Model.FromPretrained(directory), s.Features!)),
                "transcribe" => new Wav2Vec2TranscribeTransformer(new TranscribeMapper(input,
                    Wav2Vec2ForCtc.FromPretrained(directory), ReadDecoderFiles(zip, part.Entry, s.Transcribe!))),
                "classification" => new Wav2Vec2AudioClassificationTransformer(new ClassificationMapper(input,
                    Wav2Vec2ForSequenceClassification.FromPretrained(directory), s.Classification!)),
                "align" => new Wav2Vec2AlignTransformer(new AlignMapper(input, Wav2Vec2ForCtc.FromPretrained(directory), s.Align!)),
                _ => throw new InvalidDataException($"{part.Entry}: unknown part kind '{part.Kind}'"),
            };
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // A beam-search decoder's language model and lexicon travel inside the zip ("parts/N/decoder/"), so the file stays
    // self-contained; the saved settings name the entries.
    private static PartSettings WriteDecoderFiles(ZipArchive zip, string prefix, PartSettings settings)
    {
        if (settings.Transcribe?.Decoding is not { UsesBeamSearch: true } beam)
            return settings;
        string? Embed(string? path, string name)
        {
            if (path == null)
                return null;
            string entry = $"decoder/{name}{(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? ".gz" : "")}";
            zip.CreateEntryFromFile(path, prefix + entry, CompressionLevel.Optimal);
            return entry;
        }
        beam = beam with { LanguageModelPath = Embed(beam.LanguageModelPath, "lm.arpa"), LexiconPath = Embed(beam.LexiconPath, "lexicon.txt") };
        return settings with { Transcribe = settings.Transcribe with { Decoding = beam } };
    }

    // Decoder files are extracted once per content (named by CRC and length) into the temporary folder and stay there,
    // so that a loaded pipeline can be saved again.
    private static TranscribeSettings ReadDecoderFiles(ZipArchive zip, string prefix, TranscribeSettings settings)
    {
        if (settings.Decoding is not { UsesBeamSearch: true } beam)
            return settings;
        string? Extracted(string? entryName)
        {
            if (entryName == null)
                return null;
            ZipArchiveEntry entry = zip.GetEntry(prefix + entryName) ?? throw new InvalidDataException($"decoder file '{prefix + entryName}' is missing");
            string folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "wav2vec2-mlnet-decoders", $"{entry.Crc32:x8}-{entry.Length}")).FullName;
            string path = Path.Combine(folder, entry.Name);
            if (!File.Exists(path))
            {
                AtomicFile.Write(path, stream =>
                {
                    using Stream source = entry.Open();
                    source.CopyTo(stream);
                });
            }
            return path;
        }
        return settings with { Decoding = beam with { LanguageModelPath = Extracted(beam.LanguageModelPath), LexiconPath = Extracted(beam.LexiconPath) } };
    }

    // The model directory of a model transform, written through the core's SavePretrained.
    private static void WriteModel(ZipArchive zip, string prefix, AudioMapper mapper)
    {
        if (mapper is not ModelMapper)
            return;
        string directory = Directory.CreateTempSubdirectory("wav2vec2-mlnet-").FullName;
        try
        {
            if (mapper is FeaturesMapper features)
                features.Model.SavePretrained(directory);
            else if (mapper is TranscribeMapper transcribe)
                transcribe.Model.SavePretrained(directory);   // with the vocabulary files
            else if (mapper is AlignMapper align)
                align.Model.SavePretrained(directory);
            else if (mapper is ClassificationMapper classification)
                classification.Model.SavePretrained(directory);   // the classes in config.json's id2label
            foreach (string file in Directory.GetFiles(directory))
                zip.CreateEntryFromFile(file, prefix + Path.GetFileName(file),
                    file.EndsWith(".json", StringComparison.Ordinal) ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Extract(ZipArchive zip, string prefix)
    {
        string directory = Directory.CreateTempSubdirectory("wav2vec2-mlnet-").FullName;
        foreach (ZipArchiveEntry entry in zip.Entries.Where(e => e.FullName.StartsWith(prefix, StringComparison.Ordinal)))
            entry.ExtractToFile(Path.Combine(directory, entry.FullName[prefix.Length..]));
        return directory;
    }

    private static void WriteEntry(ZipArchive zip, string name, Action<Stream> write,
        CompressionLevel level = CompressionLevel.NoCompression)
    {
        // ML.NET's writer needs a seekable stream; zip entry streams are not.
        using var buffer = new MemoryStream();
        write(buffer);
        using Stream entry = zip.CreateEntry(name, level).Open();
        buffer.Position = 0;
        buffer.CopyTo(entry);
    }

    private static MemoryStream Read(ZipArchive zip, string name)
    {
        ZipArchiveEntry entry = zip.GetEntry(name)
            ?? throw new InvalidDataException($"not a Wav2Vec2.MLNet model file: entry '{name}' is missing (was it written by SaveWav2Vec2?)");
        var buffer = new MemoryStream();
        using (Stream source = entry.Open())
            source.CopyTo(buffer);
        buffer.Position = 0;
        return buffer;
    }

    private sealed record ArchiveManifest(int Format, List<PartEntry> Parts);

    private sealed record PartEntry(string Kind, string Entry, TransformerScope? Scope, PartSettings? Settings);

    private sealed record PartSettings(string InputColumnName, string? AudioFolder, BadAudioHandling BadAudio, int BatchSize)
    {
        public string? OutputColumnName { get; init; }
        public Nn.Precision? Precision { get; init; }
        public FeaturesSettings? Features { get; init; }
        public TranscribeSettings? Transcribe { get; init; }
        public ClassificationSettings? Classification { get; init; }
        public AlignSettings? Align { get; init; }
    }
}
