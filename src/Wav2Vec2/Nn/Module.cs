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
    public void Train(bool training = true)
    {
        if (Training != training)
            DropDerivedWeights();
        Training = training;
        foreach ((_, Module child) in _children)
            child.Train(training);
    }

    /// <summary>The arithmetic of this module's inference (set through <see cref="UsePrecision"/>).</summary>
    public Precision Precision { get; private set; } = Precision.Float32;

    /// <summary>
    /// Makes this module and all children compute in <paramref name="precision"/> whenever they run in evaluation mode
    /// (<c>Train(false)</c>; in training mode, and while a tape records, every layer computes in fp32, so training and
    /// gradients are unaffected). Layers quantise their weights on first use, and again after training or loading.
    /// Int8 needs a CPU with AVX2 (or AVX-512 or AVX-VNNI); elsewhere the layers stay fp32.
    /// </summary>
    public void UsePrecision(Precision precision)
    {
        if (!Enum.IsDefined(precision))
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "unknown precision");
        Precision = precision;
        DropDerivedWeights();
        foreach ((_, Module child) in _children)
            child.UsePrecision(precision);
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
        module.Train(Training);
        module.UsePrecision(Precision);
        return module;
    }
}
