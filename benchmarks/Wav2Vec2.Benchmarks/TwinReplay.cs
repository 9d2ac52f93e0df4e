using System.Globalization;
using System.Text.Json.Nodes;
using Wav2Vec2.Autograd;
using Wav2Vec2.Data;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `twin-replay --model DIR --recipe recipe.json --batches DIR --out RUN`: trains our engine on exactly the inputs
/// tools/pretrain_twin.py sampled (`sample`, or `train --dump`): its batches and crops, masks, distractors, Gumbel noise,
/// temperatures and learning rates, with the twin's update rule (gradients over the update's masked frames, clipping,
/// Adam as the recipe says), and logs RUN/train_log.jsonl with our field names. The two engines' arithmetic agrees (the
/// one-step check), so this runs the twin's training at our engine's speed: what differs from a `w2v2 pretrain` run is
/// only how each engine samples its inputs.
/// `--ours masks,negatives,noise` draws those parts with our samplers instead (seeded by `--seed`, default 1) on the
/// twin's batches and crops, to find which sampler changes the dynamics; `masks` needs `negatives` and `noise` (their
/// counts follow the masks). `--ours batches,masks,negatives,noise --data DIR` takes the batches and crops from our
/// data pipeline too (the tiny recipe's batching, as `w2v2 pretrain --seed S` loads them): all of our sampling, with the
/// twin's learning rates and temperatures, trained by this loop instead of ours.
/// </summary>
internal static class TwinReplay
{
    public static int Run(BenchmarkOptions options)
    {
        string Need(string name) => options.Named.GetValueOrDefault(name) ?? throw new BenchmarkUsageException($"twin-replay needs --{name}");
        var recipe = JsonNode.Parse(File.ReadAllText(Need("recipe")))!.AsObject();
        double Setting(string name) => recipe[name]!.GetValue<double>();
        if (recipe["final_diversity_loss_weight"] is JsonNode)
            throw new BenchmarkUsageException("twin-replay replays a constant diversity weight; this recipe's rises (final_diversity_loss_weight)");
        var model = Wav2Vec2ForPreTraining.FromPretrained(Need("model"));
        model.FeatureGradMult = (float)Setting("feature_grad_mult");
        model.FeaturePenaltyWeight = (float)Setting("feature_penalty_weight");
        model.Config.DiversityLossWeight = (float)Setting("diversity_loss_weight");
        model.Config.ContrastiveLogitsTemperature = (float)Setting("logit_temp");
        model.Train(true);
        var betas = recipe["adam_betas"]!.AsArray();
        var optimizer = new AdamW(model.Parameters(), new AdamWOptions
        {
            Beta1 = betas[0]!.GetValue<float>(), Beta2 = betas[1]!.GetValue<float>(), Epsilon = (float)Setting("adam_eps"),
            WeightDecay = (float)Setting("weight_decay"), EpsilonBeforeBiasCorrection = recipe["adam_eps_before_bias_correction"]?.GetValue<bool>() == true,
        });
        var updates = Directory.GetFiles(Need("batches"), "update-*.safetensors").Order(StringComparer.Ordinal)
            .GroupBy(f => int.Parse(Path.GetFileName(f).Split('-')[1], CultureInfo.InvariantCulture)).ToList();
        if (updates.Count == 0)
            throw new BenchmarkUsageException($"{Need("batches")}: no update-*.safetensors (write them with tools/pretrain_twin.py sample)");
        var ours = Swapped(options.Named.GetValueOrDefault("ours"));
        ulong seed = ulong.Parse(options.Named.GetValueOrDefault("seed", "1"), CultureInfo.InvariantCulture);
        model.Backbone.Random = new RandomSource(seed);
        var maskRandom = new RandomSource(seed + 0x9E3779B9UL);
        var pipeline = ours.Contains("batches") ? new OurBatches(AudioDataset.Open(Need("data")), model.Preprocessor, seed) : null;
        string run = Need("out");
        Directory.CreateDirectory(run);
        using var log = new StreamWriter(Path.Combine(run, "train_log.jsonl"));
        foreach (var update in updates)
        {
            var batches = new List<PreTrainingMetrics>();
            float lr = 0, temperature = 0;
            foreach (string file in update)
            {
                using var inputs = SafeTensorsFile.Open(file);
                Tensor values = pipeline?.Next() ?? inputs.Read("input_values");
                bool[] mask = ours.Contains("masks")
                    ? SpanMasking.ComputeMaskIndices(values.Size(0), model.Backbone.FrameCount(values.Size(1)), (float)Setting("mask_prob"),
                        (int)Setting("mask_length"), (int)Setting("mask_min_masks"), maskRandom)
                    : inputs.Read("mask").ToArray().Select(v => v != 0).ToArray();
                int[] negatives = ours.Contains("negatives")
                    ? SpanMasking.SampleNegatives(values.Size(0), mask.Count(m => m) / values.Size(0), (int)Setting("num_negatives"), maskRandom)
                    : inputs.Read("negatives").ToArray().Select(v => (int)v).ToArray();
                model.Quantizer.ReplayNoise = ours.Contains("noise") ? null : inputs.Read("noise");
                (lr, temperature) = ((float)inputs.Read("lr").ToScalar(), (float)inputs.Read("temperature").ToScalar());
                using var arena = new TensorArena();
                using var tape = new Tape();
                PreTrainingOutput output = model.Forward(values, mask, negatives, temperature);
                tape.Backward(output.Loss);
                batches.Add(output.Metrics);
            }
            double frames = batches.Sum(b => b.MaskedFrames), bits = 1.0 / frames / Math.Log(2);
            double norm = GradientClipping.NormalizeAndClip(model.Parameters(), frames, Setting("clip_norm"));
            optimizer.Options.LearningRate = lr;
            optimizer.Update();
            optimizer.ZeroGrad();
            var entry = new JsonObject
            {
                ["split"] = "train", ["update"] = update.Key,
                ["loss"] = Math.Round(batches.Sum(b => b.Loss) * bits, 6),
                ["contrastive_loss"] = Math.Round(batches.Sum(b => b.ContrastiveLoss) * bits, 6),
                ["accuracy"] = Math.Round(batches.Sum(b => b.Correct) / frames, 6),
                ["code_perplexity"] = Math.Round(batches[^1].CodePerplexity, 3),
                ["prob_perplexity"] = Math.Round(batches[^1].ProbPerplexity, 3),
                ["blocked_distractors"] = Math.Round(batches.Sum(b => (double)b.BlockedDistractors) / batches.Sum(b => b.Distractors), 6),
                ["temperature"] = Math.Round(temperature, 6), ["lr"] = lr, ["grad_norm"] = Math.Round(norm, 6), ["engine"] = ours.Count == 0 ? "twin-replay" : "twin-replay+ours:" + string.Join(',', ours.Order()),
            };
            log.WriteLine(entry.ToJsonString());
        }
        model.Quantizer.ReplayNoise = null;
        model.SavePretrained(Path.Combine(run, "final"));
        Console.WriteLine($"twin-replay updates={updates.Count} out={run}");
        return 0;
    }

    private static HashSet<string> Swapped(string? list)
    {
        var parts = (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        if (parts.Except(["batches", "masks", "negatives", "noise"]).FirstOrDefault() is string unknown)
            throw new BenchmarkUsageException($"--ours {unknown}: the samplers that can be swapped are batches, masks, negatives and noise");
        if (parts.Contains("batches") && !parts.Contains("masks"))
            throw new BenchmarkUsageException("--ours batches needs masks, negatives and noise too (they are drawn for the batch's frames)");
        if (parts.Contains("masks") && !(parts.Contains("negatives") && parts.Contains("noise")))
            throw new BenchmarkUsageException("--ours masks needs negatives and noise too (both are drawn for the masked frames)");
        return parts;
    }

    // Our pre-training's batches in training order: each epoch's plan (the tiny recipe's batching and seed), loaded and
    // cropped as the training loop loads them.
    private sealed class OurBatches(AudioDataset data, Audio.InputValuesPreprocessor preprocessor, ulong seed)
    {
        private readonly BatchingOptions _batching = PreTrainingOptions.Presets["tiny"].Batching;
        private IReadOnlyList<BatchPlan> _plans = [];
        private int _epoch, _position;

        public Tensor Next()
        {
            while (_position >= _plans.Count)
                (_plans, _position) = (BatchSampler.Plan(data.Entries, _batching, seed, ++_epoch, preprocessor.SamplingRate), 0);
            LoadedBatch batch = BatchLoader.Load(data, _plans[_position], _position, preprocessor, seed, _epoch, _batching.PadToLongest);
            _position++;
            return Tensor.FromArray(batch.Samples, batch.BatchSize, batch.Length);
        }
    }
}
