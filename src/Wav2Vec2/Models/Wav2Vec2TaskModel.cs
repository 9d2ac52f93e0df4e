using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.IO;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>
/// The base of every head on the wav2vec 2.0 backbone (the role of Hugging Face's Wav2Vec2PreTrainedModel for its
/// heads): the backbone under "wav2vec2.", its config and input preparation, freezing, and saving and loading as a
/// Hugging Face directory. A head adds its modules, declares its checkpoint names and architecture, and returns an
/// output record from its forward pass, with the loss when labels are given.
/// </summary>
/// <example><code>
/// Wav2Vec2ForCtc asr = Wav2Vec2ForCtc.FromPretrained("wav2vec2-base-960h");
/// asr.FreezeBackbone = true;                                   // only the head trains
/// CtcOutput output = asr.Forward(inputValues, labels);         // output.Loss is set because labels are given
/// </code></example>
public abstract class Wav2Vec2TaskModel : Module
{
    private protected Wav2Vec2TaskModel(Wav2Vec2Config config, RandomSource random)
    {
        Backbone = AddModule(PretrainedDirectory.BackboneName(config), new Wav2Vec2Model(config, random));
    }

    /// <summary>The wav2vec 2.0 backbone (hidden states).</summary>
    public Wav2Vec2Model Backbone { get; }

    /// <summary>The architecture (the backbone's config, with the head's fields).</summary>
    public Wav2Vec2Config Config => Backbone.Config;

    /// <summary>Input preparation (sample rate, normalisation), from preprocessor_config.json: the backbone's.</summary>
    public InputValuesPreprocessor Preprocessor
    {
        get => Backbone.Preprocessor;
        set => Backbone.Preprocessor = value;
    }

    /// <summary>
    /// Only the head trains: the backbone runs without being recorded for the backward pass, so it gets no gradient and
    /// keeps no activations (Hugging Face's freeze_base_model; fairseq's freeze_finetune_updates phase). Dropout, layer
    /// drop and masking stay active in training mode.
    /// </summary>
    public bool FreezeBackbone { get; set; }

    /// <summary>The architecture name saved in config.json ("Wav2Vec2ForCTC", ...).</summary>
    private protected abstract string ArchitectureName { get; }

    /// <summary>
    /// Writes config.json (architectures = this head), model.safetensors (Hugging Face names) and
    /// preprocessor_config.json: a directory transformers and torchaudio load as this head. A model holding its weights
    /// in int8 or bf16 alone (<see cref="Nn.Module.HeldPrecision"/>) is written in that precision, any other in fp32.
    /// </summary>
    public void SavePretrained(string directory) => SavePretrained(directory, HeldPrecision ?? Precision.Float32);

    /// <summary>
    /// As <see cref="SavePretrained(string)"/>, in <paramref name="precision"/>: with <see cref="Precision.Int8"/> the
    /// linear layers' and multi-channel convolutions' weights are stored as int8 with float32 scales per output channel
    /// (a quarter of their bytes), with <see cref="Precision.BFloat16"/> the linear layers' weights as bf16 (half):
    /// a directory this library loads as an inference model in that precision (transformers and torchaudio do not
    /// read it; docs/performance.md#int8-and-bf16-model-directories). A model loaded in int8 on a CPU whose kernel
    /// needs 7-bit weights (AVX-512BW or AVX2 without AVX-VNNI) saves the 7-bit weights it runs.
    /// </summary>
    /// <exception cref="HeldWeightsException">Another precision than the one the model holds its weights in alone.</exception>
    public virtual void SavePretrained(string directory, Precision precision) =>
        PretrainedDirectory.Save(directory, this, Config, Preprocessor, ArchitectureName, precision);

    /// <summary>The backbone's forward pass, unrecorded when <see cref="FreezeBackbone"/>.</summary>
    private protected Wav2Vec2Output ForwardBackbone(Tensor inputValues, Wav2Vec2ForwardOptions? options)
    {
        if (!FreezeBackbone)
            return Backbone.Forward(inputValues, options);
        using var noGrad = Tape.NoGrad();
        return Backbone.Forward(inputValues, options);
    }

    /// <summary>Builds a head from a directory's config.json with <paramref name="create"/>, loads its weights (strictly
    /// or not) and input preparation, in evaluation mode.</summary>
    private protected static T Load<T>(string directory, bool strict, Func<Wav2Vec2Config, RandomSource, T> create,
        out LoadReport report) where T : Wav2Vec2TaskModel =>
        PretrainedDirectory.Load(directory, strict, config => create(config, new RandomSource(0)), m => m.Backbone, out report);
}
