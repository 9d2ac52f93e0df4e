// Quick start: trains a one-block Transformer encoder (attention + feed-forward, post layer norm, as in wav2vec 2.0
// BASE) to denoise random sequences, on the engine's tape autograd with AdamW. Prints the loss falling and the time
// per step. Usage: dotnet run -c Release --project examples/QuickStart [steps]
using System.Diagnostics;
using Wav2Vec2.Autograd;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;

int steps = args.Length > 0 && int.TryParse(args[0], out int n) && n > 0 ? n : 60;
var random = new RandomSource(seed: 0);
var block = new EncoderBlock(dim: 64, heads: 4, random);
var optimizer = new AdamW(block.Parameters(), new AdamWOptions { LearningRate = 3e-3f, WeightDecay = 0.01f });

// Fixed data: clean sequences (batch 8, 50 frames, 64 features) and noisy copies of them.
Tensor clean = new(8, 50, 64), noisy = new(8, 50, 64);
for (int i = 0; i < clean.Length; i++)
{
    clean.Span[i] = MathF.Sin(i * 0.05f) * (1 + i % 3);
    noisy.Span[i] = clean.Span[i] + 0.5f * random.NextNormal();
}

var clock = Stopwatch.StartNew();
for (int step = 1; step <= steps; step++)
{
    using var arena = new TensorArena();
    using var tape = new Tape();
    Tensor error = Ops.Subtract(block.Forward(noisy), clean);
    Tensor loss = Ops.Mean(Ops.Multiply(error, error));
    optimizer.ZeroGrad();
    tape.Backward(loss);
    double gradNorm = GradientClipping.ClipByNorm(block.Parameters(), maxNorm: 5.0);
    optimizer.Update();
    if (step == 1 || step % 10 == 0)
        Console.WriteLine($"step {step,4}  loss {loss.ToScalar():F4}  grad_norm {gradNorm:F3}  " +
                          $"{clock.Elapsed.TotalMilliseconds / step:F1} ms/step");
}
Console.WriteLine($"{block.ParameterCount()} parameters, {steps} steps in {clock.Elapsed.TotalSeconds:F2} s");

/// <summary>Post-LN Transformer block: x = LN(x + Attention(x)); x = LN(x + FF(x)).</summary>
internal sealed class EncoderBlock : Module
{
    private readonly int _heads;
    private readonly Linear _q, _k, _v, _out, _up, _down;
    private readonly LayerNorm _norm1, _norm2;

    public EncoderBlock(int dim, int heads, RandomSource random)
    {
        _heads = heads;
        _q = AddModule("q_proj", new Linear(dim, dim, random));
        _k = AddModule("k_proj", new Linear(dim, dim, random));
        _v = AddModule("v_proj", new Linear(dim, dim, random));
        _out = AddModule("out_proj", new Linear(dim, dim, random));
        _norm1 = AddModule("layer_norm", new LayerNorm(dim));
        _up = AddModule("intermediate_dense", new Linear(dim, 4 * dim, random));
        _down = AddModule("output_dense", new Linear(4 * dim, dim, random));
        _norm2 = AddModule("final_layer_norm", new LayerNorm(dim));
    }

    public Tensor Forward(Tensor x)
    {
        Tensor attended = _out.Forward(Ops.Attention(_q.Forward(x), _k.Forward(x), _v.Forward(x), _heads));
        x = _norm1.Forward(Ops.Add(x, attended));
        return _norm2.Forward(Ops.Add(x, _down.Forward(Ops.Gelu(_up.Forward(x)))));
    }
}
