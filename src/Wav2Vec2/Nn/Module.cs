using Wav2Vec2.Autograd;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Nn;

/// <summary>
/// Base of every layer: owns named parameters and child modules, so a model's parameters can be enumerated with
/// Hugging Face-style dotted names ("encoder.layers.0.attention.q_proj.weight") for optimizers and checkpoints.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Parameter Parameter)> _parameters = [];
    private readonly List<(string Name, Module Module)> _children = [];

    /// <summary>True in training mode (dropout active); false for evaluation. Set through <see cref="Train"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Switches this module and all children to training (true) or evaluation (false) mode.</summary>
    /// <exception cref="HeldWeightsException">Training a model that holds weights in int8 or bf16 only.</exception>
    public void Train(bool training = true)
    {
        if (training)
            RequireFloatWeights("train");
        SetTraining(training);
    }

    private void SetTraining(bool training)
    {
        if (Training != training)
            DropDerivedWeights();
        Training = training;
        foreach ((_, Module child) in _children)
            child.SetTraining(training);
    }

    /// <summary>
    /// The precision some layers hold their weights in alone, or null: Int8 or BFloat16 for a model loaded from such a
    /// directory (<c>SavePretrained(directory, precision)</c>), which runs inference in that precision only (it cannot
    /// train or run another precision).
    /// </summary>
    public Precision? HeldPrecision => NamedParameters().Select(p => p.Parameter.HeldPrecision).FirstOrDefault(p => p != null);

    private void RequireFloatWeights(string what, Precision? allowed = null)
    {
        if (NamedParameters().FirstOrDefault(p => p.Parameter.HeldPrecision is Precision held && held != allowed) is (string name, Parameter parameter))
            throw new HeldWeightsException($"cannot {what}: {name} is held in {Precisions.Name(parameter.HeldPrecision!.Value)} only " +
                $"(the model was loaded from a {Precisions.Name(parameter.HeldPrecision!.Value)} directory); load the fp32 model for that");
    }

    /// <summary>The arithmetic of this module's inference (set through <see cref="UsePrecision"/>).</summary>
    public Precision Precision { get; private set; } = Precision.Float32;

    /// <summary>
    /// Makes this module and all children compute in <paramref name="precision"/> whenever they run in evaluation mode
    /// (<c>Train(false)</c>; in training mode, and while a tape records, every layer computes in fp32, so training and
    /// gradients are unaffected). Layers quantise their weights on first use, and again after training or loading.
    /// Int8 needs a CPU with AVX2 (or AVX-512 or AVX-VNNI); elsewhere the layers stay fp32.
    /// </summary>
    /// <exception cref="HeldWeightsException">Another precision than the one a model holds its weights in alone.</exception>
    public void UsePrecision(Precision precision)
    {
        if (!Enum.IsDefined(precision))
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "unknown precision");
        RequireFloatWeights($"run in {Precisions.Name(precision)}", allowed: precision);
        SetPrecision(precision);
    }

    private void SetPrecision(Precision precision)
    {
        Precision = precision;
        DropDerivedWeights();
        foreach ((_, Module child) in _children)
            child.SetPrecision(precision);
    }

    /// <summary>Drops, in this module and all children, what layers derived from their weights (their int8 copies),
    /// after the weights were overwritten in place (a checkpoint or an adapter loaded).</summary>
    internal void WeightsChanged()
    {
        DropDerivedWeights();
        foreach ((_, Module child) in _children)
            child.WeightsChanged();
    }

    /// <summary>Called when the training mode, the precision or the weights change: drop anything derived from the weights.</summary>
    private protected virtual void DropDerivedWeights()
    {
    }

    /// <summary>True when a forward pass may use int8 weights: precision Int8, evaluation mode, nothing recorded and an
    /// int8 kernel faster than the scalar twin.</summary>
    private protected bool RunsInt8 => Precision == Precision.Int8 && !Training && !Tape.IsRecording && Kernels.Int8Gemm.Accelerated;

    /// <summary>True when a forward pass may use bf16 weights: precision BFloat16, evaluation mode, nothing recorded.</summary>
    private protected bool RunsBf16 => Precision == Precision.BFloat16 && !Training && !Tape.IsRecording;

    /// <summary>Dropout with probability <paramref name="p"/>, active only in training mode.</summary>
    protected Tensor Dropout(Tensor x, float p, RandomSource random) => Training && p > 0 ? Ops.Dropout(x, p, random) : x;

    /// <summary>Every parameter of this module and its children, with its dotted name, in registration order.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        foreach ((string name, Parameter parameter) in _parameters)
            yield return (prefix + name, parameter);
        foreach ((string name, Module child) in _children)
            foreach (var entry in child.NamedParameters(prefix + name + "."))
                yield return entry;
    }

    /// <summary>This module and every descendant, with its dotted name ("" for this one).</summary>
    internal IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach ((string name, Module child) in _children)
            foreach (var entry in child.NamedModules(prefix + name + "."))
                yield return entry;
    }

    /// <summary>The weights that int8 models store in int8 (linear layers and multi-channel convolutions), by name.</summary>
    internal IEnumerable<(string Name, Int8WeightCache Weight)> Int8Weights() => NamedModules()
        .Select(m => m.Module switch
        {
            Linear linear when !linear.KeepsFloat32 => linear.Int8,
            Conv1d conv when conv.QuantisesInt8 => conv.Int8,
            _ => null,
        } is Int8WeightCache cache ? (Name: m.Name + ".weight", Weight: cache) : default)
        .Where(entry => entry.Weight != null);

    /// <summary>The weights that bf16 models store in bf16 (linear layers), by name.</summary>
    internal IEnumerable<(string Name, Bf16WeightCache Weight)> Bf16Weights() => NamedModules()
        .Where(m => m.Module is Linear { KeepsFloat32: false })
        .Select(m => (m.Name + ".weight", ((Linear)m.Module).Bf16));

    /// <summary>Every parameter as a (name, tensor) pair, the form checkpoint readers and writers take.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedTensors() =>
        NamedParameters().Select(entry => (entry.Name, (Tensor)entry.Parameter));

    /// <summary>Every parameter, in the order of <see cref="NamedParameters"/>.</summary>
    public IReadOnlyList<Parameter> Parameters() => NamedParameters().Select(entry => entry.Parameter).ToList();

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount() => NamedParameters().Sum(entry => (long)entry.Parameter.Length);

    /// <summary>Clears every parameter's accumulated gradient.</summary>
    public void ZeroGrad()
    {
        foreach ((_, Parameter parameter) in NamedParameters())
            parameter.ZeroGrad();
    }

    /// <summary>Registers a parameter under <paramref name="name"/> and returns it.</summary>
    protected Parameter AddParameter(string name, params int[] shape)
    {
        var parameter = new Parameter(name, shape);
        _parameters.Add((name, parameter));
        return parameter;
    }

    /// <summary>Registers a child module under <paramref name="name"/> and returns it.</summary>
    protected T AddModule<T>(string name, T module) where T : Module
    {
        _children.Add((name, module));
        return module;
    }

    /// <summary>Puts <paramref name="module"/> in the place of the child registered as <paramref name="name"/>, in this
    /// module's mode and precision.</summary>
    protected T ReplaceModule<T>(string name, T module) where T : Module
    {
        int at = _children.FindIndex(child => child.Name == name);
        if (at < 0)
            throw new InvalidOperationException($"no child module '{name}' to replace");
        _children[at] = (name, module);
        module.SetTraining(Training);
        module.SetPrecision(Precision);
        return module;
    }
}
