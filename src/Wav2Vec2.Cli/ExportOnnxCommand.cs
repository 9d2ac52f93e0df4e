using System.CommandLine;
using System.Diagnostics;
using Wav2Vec2.Onnx;

namespace Wav2Vec2.Cli;

/// <summary>w2v2 export-onnx: a model (its CTC or classification head, or the backbone) as an ONNX file.</summary>
internal static class ExportOnnxCommand
{
    public static Command Create(TextWriter output)
    {
        Option<string> model = ModelCommands.ModelOption();
        var outPath = new Option<string>("--out") { Description = "The .onnx file to write (weights above 1 GB go to FILE.data beside it).", Required = true };
        var backbone = new Option<bool>("--backbone") { Description = "Export the backbone (hidden states) even if the model has a head; required for a pre-training model." };
        var layer = new Option<int?>("--layer") { Description = "Backbone: output this hidden state (0 = encoder input) instead of the last, and stop there." };
        var allLayers = new Option<bool>("--all-layers") { Description = "Backbone: also output every hidden state (hidden_states.N)." };
        var mask = new Option<string>("--attention-mask") { Description = "auto (as preprocessor_config.json's return_attention_mask), yes or no.", DefaultValueFactory = _ => "auto" };
        mask.AcceptOnlyFromAmong("auto", "yes", "no");
        var command = new Command("export-onnx", "Export a model to ONNX (opset 17) for ONNX Runtime and ML.NET's ApplyOnnxModel.")
            { model, outPath, backbone, layer, allLayers, mask };
        command.SetAction(parse =>
        {
            string target = ModelCommands.OutputPath(parse.GetValue(outPath)!);
            bool backboneOnly = parse.GetValue(backbone) || parse.GetValue(layer) != null || parse.GetValue(allLayers);
            var options = new OnnxExportOptions
            {
                Layer = parse.GetValue(layer),
                AllHiddenStates = parse.GetValue(allLayers),
                AttentionMask = parse.GetValue(mask) switch { "yes" => true, "no" => false, _ => null },
            };
            long start = Stopwatch.GetTimestamp();
            OnnxExporter.Export(ModelSource.Resolve(parse.GetValue(model)!), target, options, backboneOnly);
            long bytes = new FileInfo(target).Length + (File.Exists(target + ".data") ? new FileInfo(target + ".data").Length : 0);
            output.WriteLine($"{target}: {bytes:N0} bytes in {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s");
            return 0;
        });
        return command;
    }
}
