using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ScottPlot;
using Wav2Vec2.IO;

namespace Wav2Vec2.Cli;

/// <summary>
/// w2v2 plot: the logged curves of training runs side by side in one PNG, one panel per metric, one line per run
/// (train_log.jsonl of w2v2's runs and of tools/pretrain_twin.py's, which logs the same fields).
/// </summary>
internal static class PlotCommand
{
    // Panels in this order when present: the objective, what shows a codebook collapse, the schedules, validation.
    private static readonly string[] DefaultMetrics =
        ["loss", "accuracy", "code_perplexity", "prob_perplexity", "temperature", "lr", "grad_norm", "valid loss", "valid wer", "valid cer"];

    public static Command Create(TextWriter output)
    {
        var runs = new Argument<string[]>("runs") { Description = "Run directories (each with train_log.jsonl).", Arity = ArgumentArity.OneOrMore };
        var outPath = new Option<string>("--out") { Description = "The PNG to write.", Required = true };
        var metrics = new Option<string?>("--metrics") { Description = "Comma-separated fields to draw (a 'valid ' prefix for validation entries); default: every usual field the logs have." };
        var width = new Option<int>("--width") { Description = "Image width in pixels.", DefaultValueFactory = _ => 1600 };
        var height = new Option<int>("--height") { Description = "Image height in pixels.", DefaultValueFactory = _ => 1000 };
        var command = new Command("plot", "Draw training runs' logged curves side by side (loss, accuracy, code perplexity, temperature, lr, validation WER/CER).")
            { runs, outPath, metrics, width, height };
        command.SetAction(parse =>
        {
            string target = ModelCommands.OutputPath(parse.GetValue(outPath)!);
            int w = parse.GetValue(width), h = parse.GetValue(height);
            if (w is < 200 or > 10_000 || h is < 150 or > 10_000)
                throw new CliException($"--width and --height must be within 200-10000 and 150-10000 pixels, got {w} x {h}");
            List<RunLog> logs = [.. parse.GetValue(runs)!.Select(RunLog.Read)];
            string[] chosen = parse.GetValue(metrics) is string list
                ? [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
                : [.. DefaultMetrics.Where(m => logs.Any(l => l.Series.ContainsKey(m)))];
            string[] missing = [.. chosen.Where(m => !logs.Any(l => l.Series.ContainsKey(m)))];
            if (chosen.Length == 0 || missing.Length > 0)
                throw new CliException(chosen.Length == 0 ? "the logs hold none of the usual fields" : $"no run logged {string.Join(", ", missing)}");
            byte[] png = Draw(logs, chosen, w, h);
            AtomicFile.Write(target, stream => stream.Write(png));
            output.WriteLine($"{target}: {chosen.Length} panels, {logs.Count} runs");
            return 0;
        });
        return command;
    }

    private static byte[] Draw(List<RunLog> logs, string[] metrics, int width, int height)
    {
        var figure = new Multiplot();
        figure.AddPlots(metrics.Length);
        int columns = metrics.Length <= 2 ? metrics.Length : metrics.Length <= 4 ? 2 : 3;
        figure.Layout = new ScottPlot.MultiplotLayouts.Grid((metrics.Length + columns - 1) / columns, columns);
        for (int i = 0; i < metrics.Length; i++)
        {
            Plot panel = figure.GetPlot(i);
            panel.Title(metrics[i]);
            panel.XLabel("update");
            foreach (RunLog log in logs)
                if (log.Series.TryGetValue(metrics[i], out var points))
                {
                    var line = panel.Add.Scatter(points.Select(p => p.Update).ToArray(), points.Select(p => p.Value).ToArray());
                    line.LegendText = log.Name;
                    line.MarkerSize = points.Count > 50 ? 0 : 3;
                }
            if (logs.Count > 1)
                panel.ShowLegend();
        }
        return figure.Render(width, height).GetImageBytes(ImageFormat.Png, 100);
    }

    /// <summary>One run's logged values by field ("valid " before validation fields), in update order.</summary>
    private sealed record RunLog(string Name, Dictionary<string, List<(double Update, double Value)>> Series)
    {
        public static RunLog Read(string directory)
        {
            string path = Path.Combine(directory, "train_log.jsonl");
            if (!File.Exists(path))
                throw new CliException($"{directory}: no train_log.jsonl (not a training run directory)");
            var series = new Dictionary<string, List<(double, double)>>(StringComparer.Ordinal);
            string? engine = null;
            int number = 0;
            foreach (string line in File.ReadLines(path))
            {
                number++;
                if (line.Length == 0)
                    continue;
                JsonObject entry;
                try
                {
                    entry = JsonNode.Parse(line)?.AsObject() ?? throw new JsonException("not an object");
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException)
                {
                    throw new CliException($"{path}:{number}: not a JSON object ({e.Message.Split('\n')[0]})");
                }
                engine ??= entry["engine"]?.GetValue<string>();
                if (entry["update"] is not JsonValue u || !u.TryGetValue(out double update))
                    continue;
                string prefix = entry["split"]?.GetValue<string>() is "valid" or "validation" ? "valid " : "";
                foreach (var (key, value) in entry)
                    if (value is JsonValue v && v.GetValueKind() == JsonValueKind.Number && key != "update")
                    {
                        if (!series.TryGetValue(prefix + key, out var points))
                            series[prefix + key] = points = [];
                        points.Add((update, v.GetValue<double>()));
                    }
            }
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
            return new RunLog(engine == "pytorch-twin" ? $"{name} (PyTorch twin)" : name, series);
        }
    }
}
