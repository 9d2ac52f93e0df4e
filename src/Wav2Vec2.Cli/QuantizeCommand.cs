using System.CommandLine;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;

namespace Wav2Vec2.Cli;

/// <summary>w2v2 quantize: a model directory rewritten with int8 or bf16 weights, which every command then runs so.</summary>
internal static class QuantizeCommand
{
    public static Command Create(TextWriter output)
    {
        Option<string> model = ModelCommands.ModelOption();
        var outDir = new Option<string>("--out") { Description = "Directory to create.", Required = true };
        var precision = new Option<string>("--precision")
        {
            Description = "Stored precision: int8 (linear layers and convolutions, per output channel: a quarter of their bytes) " +
                          "or bf16 (linear layers: half).",
            DefaultValueFactory = _ => "int8",
        }.AcceptOnlyFromAmong("int8", "bf16");
        var command = new Command("quantize", "Write a model with its linear and convolution weights in int8 (or its linear weights in bf16): " +
            "features, logits, transcribe and evaluate run it so without a flag.") { model, outDir, precision };
        command.SetAction(parse =>
        {
            string source = ModelSource.Resolve(parse.GetValue(model)!);
            string directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(parse.GetValue(outDir)!));
            if (File.Exists(directory) || (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any()))
                throw new CliException($"{directory} already exists and is not an empty directory");
            ModelSummary summary = ModelSummary.Read(source);
            if (summary.Config.WeightsPrecision != Precision.Float32)
                throw new CliException($"{source} is already stored in {ModelCommands.PrecisionName(summary.Config.WeightsPrecision)}");
            string name = parse.GetValue(precision)!;
            Precision target = ModelCommands.ParsePrecision(name);
            string staging = Path.Combine(Path.GetDirectoryName(directory)!, $".{Path.GetFileName(directory)}.partial-{Guid.NewGuid():N}");
            try
            {
                Save(source, summary.Head, staging, target);
                CopyOtherFiles(source, staging);
                if (Directory.Exists(directory))
                    Directory.Delete(directory);
                Directory.Move(staging, directory);
            }
            finally
            {
                if (Directory.Exists(staging))
                    Directory.Delete(staging, recursive: true);
            }
            long Bytes(string dir) => Directory.GetFiles(dir, "model.safetensors*").Concat(Directory.GetFiles(dir, "pytorch_model.bin*"))
                .Sum(f => new FileInfo(f).Length);
            output.WriteLine($"{directory}: {summary.Head} model in {name}, weights {Bytes(directory):N0} bytes (from {Bytes(source):N0})");
            return 0;
        });
        return command;
    }

    private static void Save(string source, string head, string directory, Precision precision)
    {
        switch (head)
        {
            case "CTC":
                Wav2Vec2ForCtc.FromPretrained(source).SavePretrained(directory, precision);
                break;
            case "sequence classification":
                Wav2Vec2ForSequenceClassification.FromPretrained(source).SavePretrained(directory, precision);
                break;
            case "pre-training":
                Wav2Vec2ForPreTraining.FromPretrained(source).SavePretrained(directory, precision);
                break;
            default:
                Wav2Vec2Model.FromPretrained(source).SavePretrained(directory, precision);
                break;
        }
    }

    // What SavePretrained does not write (an MMS model's other languages' adapters, a model card) comes along unchanged;
    // the source's weight files are replaced by the int8 ones.
    private static void CopyOtherFiles(string source, string directory)
    {
        foreach (string file in Directory.GetFiles(source))
        {
            string name = Path.GetFileName(file);
            if (name.StartsWith("model.safetensors", StringComparison.Ordinal) || name.StartsWith("pytorch_model.bin", StringComparison.Ordinal))
                continue;
            string target = Path.Combine(directory, name);
            if (!File.Exists(target))
                File.Copy(file, target);
        }
    }
}
