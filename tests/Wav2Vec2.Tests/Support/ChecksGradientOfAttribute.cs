namespace Wav2Vec2.Tests.Support;

/// <summary>Marks a test that gradient-checks the named public ops (Autograd's coverage test reads it).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChecksGradientOfAttribute(params string[] ops) : Attribute
{
    /// <summary>Names of the <c>Ops</c> methods whose backward the test checks.</summary>
    public IReadOnlyList<string> Ops { get; } = ops;
}
