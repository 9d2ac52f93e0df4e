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
        var inputs = new Argument<string[]>("runs")
        {
            Description = "Run directories (each with train_log.jsonl), or one leaderboard JSON of the experiment runner (Wav2Vec2ExperimentResult.SaveLeaderboard).",
            Arity = ArgumentArity.OneOrMore,
        };
        var outPath = new Option<string>("--out") { Description = "The PNG to write.", Required = true };
        var metrics = new Option<string?>("--metrics") { Description = "Comma-separated fields to draw (a 'valid ' prefix for validation entries); default: every usual field the logs have." };
        var smooth = new Option<int>("--smooth") { Description = "Draw each point as the mean of the last N logged values (per-update logs are noisy).", DefaultValueFactory = _ => 1 };
        var width = new Option<int>("--width") { Description = "Image width in pixels.", DefaultValueFactory = _ => 1600 };
        var height = new Option<int>("--height") { Description = "Image height in pixels.", DefaultValueFactory = _ => 1000 };
        var command = new Command("plot", "Draw training runs' logged curves side by side (loss, accuracy, code perplexity, temperature, lr, validation WER/CER), or an experiment's leaderboard (score by layer and pooling).")
            { inputs, outPath, metrics, smooth, width, height };
        command.SetAction(parse =>
        {
            string target = ModelCommands.OutputPath(parse.GetValue(outPath)!);
            int w = parse.GetValue(width), h = parse.GetValue(height), window = parse.GetValue(smooth);
            if (w is < 200 or > 10_000 || h is < 150 or > 10_000)
                throw new CliException($"--width and --height must be within 200-10000 and 150-10000 pixels, got {w} x {h}");
            if (window is < 1 or > 100_000)
                throw new CliException($"--smooth must be within 1-100000 logged values, got {window}");
            string[] paths = parse.GetValue(inputs)!;
            byte[] png;
            string summary;
            if (paths.Any(File.Exists))
            {
                if (paths.Length > 1)
                    throw new CliException("a leaderboard JSON is drawn alone: give one file, or run directories only");
                Leaderboard board = Leaderboard.Read(paths[0]);
                png = board.Draw(w, h);
                summary = $"{board.Trials.Count} configurations by layer";
            }
            else
            {
                List<RunLog> logs = [.. paths.Select(RunLog.Read)];
                string[] names = RunLog.Names(logs);
                string[] chosen = parse.GetValue(metrics) is string list
                    ? [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
                    : [.. DefaultMetrics.Where(m => logs.Any(l => l.Series.ContainsKey(m)))];
                string[] missing = [.. chosen.Where(m => !logs.Any(l => l.Series.ContainsKey(m)))];
                if (chosen.Length == 0 || missing.Length > 0)
                    throw new CliException(chosen.Length == 0 ? "the logs hold none of the usual fields" : $"no run logged {string.Join(", ", missing)}");
                png = Draw(logs, names, chosen, window, w, h);
                summary = $"{chosen.Length} panels, {logs.Count} runs ({string.Join(", ", names)})";
            }
            AtomicFile.Write(target, stream => stream.Write(png));
            output.WriteLine($"{target}: {summary}");
            return 0;
        });
        return command;
    }

    private static byte[] Draw(List<RunLog> logs, string[] names, string[] metrics, int smooth, int width, int height)
    {
        var figure = new Multiplot();
        figure.AddPlots(metrics.Length);
        int columns = metrics.Length <= 2 ? metrics.Length : metrics.Length <= 4 ? 2 : 3;
        figure.Layout = new ScottPlot.MultiplotLayouts.Grid((metrics.Length + columns - 1) / columns, columns);
        for (int i = 0; i < metrics.Length; i++)
        {
            Plot panel = figure.GetPlot(i);
            panel.Title(smooth > 1 ? $"{metrics[i]} (mean of {smooth})" : metrics[i]);
            panel.XLabel("update");
            for (int r = 0; r < logs.Count; r++)
                if (logs[r].Series.TryGetValue(metrics[i], out var points))
                {
                    var line = panel.Add.Scatter(points.Select(p => p.Update).ToArray(), TrailingMeans(points.Select(p => p.Value).ToArray(), smooth));
                    line.LegendText = names[r];
                    line.MarkerSize = points.Count > 50 ? 0 : 3;
                }
            if (logs.Count > 1)
                panel.ShowLegend();
        }
        return figure.Render(width, height).GetImageBytes(ImageFormat.Png, 100);
    }

    // Each value replaced by the mean of it and up to window - 1 values before it.
    private static double[] TrailingMeans(double[] values, int window)
    {
        var means = new double[values.Length];
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i] - (i >= window ? values[i - window] : 0);
            means[i] = sum / Math.Min(i + 1, window);
        }
        return means;
    }

    /// <summary>An experiment's leaderboard as Wav2Vec2ExperimentResult.SaveLeaderboard writes it.</summary>
    private sealed record Leaderboard(string Metric, List<(int Layer, string Series, double Mean, double Std)> Trials)
    {
        public static Leaderboard Read(string path)
        {
            try
            {
                JsonObject board = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new JsonException("empty");
                string metric = board["leaderboard"]?.GetValue<string>() ?? throw new JsonException("no \"leaderboard\" metric");
                var trials = (board["trials"]?.AsArray() ?? throw new JsonException("no \"trials\"")).Select(t => (
                    t!["layer"]!.GetValue<int>(), $"{t["pooling"]!.GetValue<string>()}, {t["trainer"]!.GetValue<string>()}",
                    t["mean"]!.GetValue<double>(), t["std"]!.GetValue<double>())).ToList();
                return trials.Count > 0 ? new Leaderboard(metric, trials) : throw new JsonException("no trials");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
            {
                throw new CliException($"{path}: not an experiment leaderboard ({e.Message.Split('\n')[0]})");
            }
        }

        // The metric by layer, one line per pooling and trainer, the standard deviation over folds as error bars.
        public byte[] Draw(int width, int height)
        {
            var plot = new Plot();
            plot.Title($"{Metric} by layer (mean and standard deviation over folds)");
            plot.XLabel("layer");
            plot.YLabel(Metric);
            foreach (var series in Trials.GroupBy(t => t.Series))
            {
                var points = series.OrderBy(t => t.Layer).ToArray();
                double[] layers = [.. points.Select(p => (double)p.Layer)], means = [.. points.Select(p => p.Mean)];
                var line = plot.Add.Scatter(layers, means);
                line.LegendText = series.Key;
                var bars = plot.Add.ErrorBar(layers, means, points.Select(p => p.Std).ToArray());
                bars.Color = line.Color;
            }
            plot.ShowLegend();
            return plot.GetImageBytes(width, height, ImageFormat.Png);
        }
    }

    /// <summary>One run's logged values by field ("valid " before validation fields), in update order, and the engine
    /// its log names (null: ours).</summary>
    private sealed record RunLog(string RunDirectory, string? Engine, Dictionary<string, List<(double Update, double Value)>> Series)
    {
        /// <summary>Each run's legend: the shortest ending of its path that no other run shares (ours/seed-1 beside
        /// replay/seed-1), with the engine when the log names one other than ours.</summary>
        public static string[] Names(List<RunLog> logs)
        {
            string[][] parts = [.. logs.Select(l => Path.TrimEndingDirectorySeparator(l.RunDirectory).Split(Path.DirectorySeparatorChar))];
            int depth = 1;
            while (depth < parts.Max(p => p.Length) && parts.Select(p => Ending(p, depth)).Distinct().Count() < parts.Length)
                depth++;
            return [.. logs.Select((l, i) => Ending(parts[i], depth) + l.Engine switch
            {
                null => "",
                "pytorch-twin" => " (PyTorch twin)",
                "twin-replay" => " (twin's sampling)",
                string other => $" ({other})",
            })];
        }

        private static string Ending(string[] parts, int depth) => string.Join('/', parts[Math.Max(0, parts.Length - depth)..]);

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
            return new RunLog(Path.GetFullPath(directory), engine, series);
        }
    }
}
