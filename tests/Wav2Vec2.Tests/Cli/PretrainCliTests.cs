using static Wav2Vec2.Tests.Support.CliRunner;
using Wav2Vec2.IO;

namespace Wav2Vec2.Tests.Cli;

[TestClass]
public sealed class PretrainCliTests : TempDirectoryTest
{
    [TestMethod]
    public void PretrainWritesLogsCheckpointsAndAModelThatFeaturesAccepts()
    {
        string data = Directory.CreateDirectory(Path.Combine(TempDirectory, "data")).FullName;
        File.Copy(FixturePath("flac", "speech16.flac"), Path.Combine(data, "a.flac"));
        File.Copy(FixturePath("flac", "speech16.wav"), Path.Combine(data, "b.wav"));
        string config = Path.Combine(TempDirectory, "config.json");
        var small = TinyConfig();
        (small.MaskTimeProb, small.MaskTimeLength) = (0.05f, 4);   // a Hub config's fine-tuning values: the recipe's apply
        File.WriteAllText(config, small.ToJson());
        string run = Path.Combine(TempDirectory, "run");
        string[] common = ["pretrain", "--data", data, "--valid", data, "--config", config, "--out", run, "--min-sample-size", "4000",
            "--max-sample-size", "8000", "--max-tokens", "16000", "--valid-interval", "2", "--save-interval", "2"];
        var (code, output, error) = Run([.. common, "--max-updates", "2"]);
        Assert.AreEqual(0, code, error + output);
        StringAssert.Contains(output, "finished 2 updates");
        StringAssert.Contains(output, "recipe base");
        StringAssert.Contains(output, "effective batch: up to 1 s of audio per update (fairseq's recipe: 64 GPU(s) x 1 s = 64 s at this learning rate)");
        StringAssert.Contains(output, "objective: masks p 0.65 x 10 frames (min 2), 100 distractors");
        StringAssert.Contains(output, "input raw waveform");
        StringAssert.Contains(File.ReadAllText(Path.Combine(run, "final", "config.json")), "\"mask_time_prob\": 0.65");
        string[] log = File.ReadAllLines(Path.Combine(run, "train_log.jsonl"));
        Assert.AreEqual(3, log.Length, "two train lines and one validation line");
        StringAssert.Contains(log[2], "\"split\":\"valid\"");
        Assert.IsTrue(Directory.Exists(Path.Combine(run, "checkpoint-2")));

        string npy = Path.Combine(TempDirectory, "f.npy");
        Assert.AreEqual(0, Run("features", "--model", Path.Combine(run, "final"), "--audio", FixturePath("reference_audio.wav"), "--out", npy).Code);
        Assert.AreEqual(16, Npy.Read(npy).Size(1));

        (code, _, error) = Run([.. common, "--max-updates", "4"]);
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "already holds checkpoints (the newest is checkpoint-");
        StringAssert.Contains(error, "(pass --resume to continue, or choose another --out)");
        (code, output, _) = Run([.. common, "--max-updates", "4", "--resume"]);
        Assert.AreEqual(0, code, output);
        StringAssert.Contains(output, "resumed from");
        Assert.IsTrue(Directory.Exists(Path.Combine(run, "checkpoint-4")));
    }

    [TestMethod]
    public void PrintRecipeWritesTheResolvedRecipeForTheTwinWithoutDataOrOutput()
    {
        var (code, output, error) = Run("pretrain", "--preset", "tiny", "--max-updates", "600", "--lr", "0.002", "--diversity-weight", "0.5", "--print-recipe");
        Assert.AreEqual(0, code, error);
        var recipe = System.Text.Json.Nodes.JsonNode.Parse(output)!.AsObject();
        Assert.AreEqual(600, (int)recipe["max_update"]!);
        Assert.AreEqual(0.002f, (float)recipe["lr"]!);
        Assert.AreEqual(48, (int)recipe["warmup_updates"]!, "8 % of the run, as the tiny recipe's schedule computes it");
        Assert.AreEqual(10, (int)recipe["num_negatives"]!);
        Assert.AreEqual(0.5f, (float)recipe["diversity_loss_weight"]!);
        StringAssert.Contains(Run("pretrain", "--preset", "tiny", "--diversity-weight", "-1", "--print-recipe").Error, "--diversity-weight must be within 0-1000, got -1");
        Assert.IsTrue((bool)recipe["normalize"]!);
        double decay = (double)recipe["temp_decay"]!;
        Assert.AreEqual(0.5, 1.0 * Math.Pow(decay, 0.6 * 600), 1e-9, "the temperature reaches its floor at 60 % of the run");
        Assert.AreEqual(1, Run("pretrain", "--preset", "tiny").Code, "without --print-recipe, --data and --out are needed");
    }

    [TestMethod]
    public void PlotDrawsRunsSideBySideAndNamesBadLogs()
    {
        string a = Directory.CreateDirectory(Path.Combine(TempDirectory, "ours", "seed-1")).FullName;
        string b = Directory.CreateDirectory(Path.Combine(TempDirectory, "twin", "seed-1")).FullName;
        File.WriteAllLines(Path.Combine(a, "train_log.jsonl"), Enumerable.Range(1, 30).Select(u =>
            $"{{\"split\":\"train\",\"update\":{u},\"loss\":{4 - u * 0.01},\"accuracy\":{u * 0.01},\"code_perplexity\":{100 - u}}}"));
        File.WriteAllLines(Path.Combine(b, "train_log.jsonl"), Enumerable.Range(1, 30).Select(u =>
            $"{{\"split\":\"train\",\"update\":{u},\"loss\":{4 - u * 0.012},\"accuracy\":{u * 0.011},\"code_perplexity\":{99 - u},\"engine\":\"pytorch-twin\"}}"));
        string png = Path.Combine(TempDirectory, "curves.png");
        var (code, output, error) = Run("plot", a, b, "--out", png, "--width", "800", "--height", "500");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "3 panels, 2 runs (ours/seed-1, twin/seed-1 (PyTorch twin))", "runs named by the path ending they do not share");
        byte[] bytes = File.ReadAllBytes(png);
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        Assert.AreEqual(800, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), "IHDR width");

        Assert.AreEqual(0, Run("plot", a, b, "--out", png, "--smooth", "10").Code);
        StringAssert.Contains(Run("plot", a, "--out", png, "--smooth", "0").Error, "--smooth must be within 1-100000 logged values, got 0");
        (code, _, error) = Run("plot", a, "--out", png, "--metrics", "wer");
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "no run logged wer");
        File.AppendAllText(Path.Combine(b, "train_log.jsonl"), "{not json\n");
        (code, _, error) = Run("plot", b, "--out", png);
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "train_log.jsonl:31: not a JSON object");
    }

    [TestMethod]
    public void PlotDrawsAnExperimentLeaderboardByLayer()
    {
        var trials = new List<Wav2Vec2.MLNet.Wav2Vec2ExperimentTrial>();
        foreach (var pooling in new[] { Wav2Vec2.MLNet.Wav2Vec2Pooling.Mean, Wav2Vec2.MLNet.Wav2Vec2Pooling.MeanAndStd })
            for (int layer = 0; layer <= 4; layer += 2)
                trials.Add(new(layer, pooling, "LbfgsMaximumEntropy", 0.5 + layer * 0.05, 0.02, [0.48, 0.52], TimeSpan.FromSeconds(1)));
        var result = new Wav2Vec2.MLNet.Wav2Vec2ExperimentResult(Wav2Vec2.MLNet.Wav2Vec2ExperimentMetric.MacroAccuracy,
            [.. trials.OrderByDescending(t => t.Mean)], model: null!, configurations: 6, clipsExtracted: 10, TimeSpan.Zero);
        string board = Path.Combine(TempDirectory, "leaderboard.json"), png = Path.Combine(TempDirectory, "board.png");
        result.SaveLeaderboard(board);
        var saved = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(board))!;
        Assert.AreEqual("MacroAccuracy", (string?)saved["leaderboard"]);
        Assert.AreEqual(6, saved["trials"]!.AsArray().Count);
        Assert.AreEqual(4, (int)saved["trials"]![0]!["layer"]!, "best first");

        var (code, output, error) = Run("plot", board, "--out", png, "--width", "640", "--height", "480");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "6 configurations by layer");
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);

        StringAssert.Contains(Run("plot", board, TempDirectory, "--out", png).Error, "a leaderboard JSON is drawn alone");
        File.WriteAllText(board, "{\"trials\": []}");
        StringAssert.Contains(Run("plot", board, "--out", png).Error, $"{board}: not an experiment leaderboard (no \"leaderboard\" metric)");
    }

    [TestMethod]
    public void PretrainRejectsBadFlags()
    {
        string data = Directory.CreateDirectory(Path.Combine(TempDirectory, "data")).FullName;
        StringAssert.Contains(Run("pretrain", "--data", data, "--out", Path.Combine(TempDirectory, "r")).Error, "give --preset, --config or --init (the architecture to train)");
        StringAssert.Contains(Run("pretrain", "--data", data, "--preset", "huge", "--out", Path.Combine(TempDirectory, "r")).Error, "--preset must be one of base, large, tiny, got 'huge'");
        StringAssert.Contains(Run("pretrain", "--data", data, "--preset", "tiny", "--out", Path.Combine(TempDirectory, "r"), "--max-updates", "0").Error, "--max-updates must be positive");
        var (code, _, error) = Run("pretrain", "--data", data, "--preset", "tiny", "--out", Path.Combine(TempDirectory, "r"));
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "no readable audio files (.wav .flac .mp3");
        StringAssert.Contains(Run("pretrain", "--data", Path.Combine(TempDirectory, "none"), "--preset", "tiny", "--out", Path.Combine(TempDirectory, "r")).Error,
            "neither a directory nor a manifest");
    }
}
