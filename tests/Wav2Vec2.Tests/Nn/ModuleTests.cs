using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Nn;

[TestClass]
public sealed class ModuleTests
{
    [TestMethod]
    public void ModuleNamesParametersWithDottedPaths()
    {
        var model = new TwoLayers();
        CollectionAssert.AreEqual(new[] { "first.weight", "first.bias", "norm.weight", "norm.bias" },
            model.NamedParameters().Select(p => p.Name).ToArray());
        Assert.AreEqual(3 * 2 + 3 + 3 + 3, model.ParameterCount());
        model.Train(false);
        Assert.IsFalse(model.Training);
    }

    private sealed class TwoLayers : Module
    {
        public TwoLayers()
        {
            AddModule("first", new Linear(2, 3, new RandomSource(0)));
            AddModule("norm", new LayerNorm(3));
        }
    }
}
