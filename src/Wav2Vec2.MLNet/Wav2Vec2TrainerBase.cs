using Microsoft.ML;
using Microsoft.ML.Runtime;
using Wav2Vec2.Data;
using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.MLNet;

/// <summary>
/// What the training estimators share (<see cref="Wav2Vec2PreTrainingEstimator"/>, <see cref="Wav2Vec2CtcTrainer"/>,
/// <see cref="Wav2Vec2AudioClassificationTrainer"/>): the columns are checked at <see cref="GetOutputSchema"/> and
/// <see cref="Fit"/> (training and validation data) before anything is read; Fit reads the rows into the core's
/// datasets, trains in a run directory with progress in mlContext.Log and on a progress channel, honours the options'
/// cancellation token, and returns a transformer whose model is the trained one.
/// </summary>
/// <typeparam name="TTransformer">The transformer Fit returns.</typeparam>
/// <example><code>
/// var trainer = mlContext.SpeechRecognition.Trainers.Wav2Vec2Ctc("pretrained", audioColumnName: "Path", audioFolder: "clips");
/// SchemaShape shape = trainer.GetOutputSchema(previousEstimator.GetOutputSchema(inputShape));   // column errors surface here
/// var asr = trainer.Fit(data);
/// </code></example>
public abstract class Wav2Vec2TrainerBase<TTransformer> : IEstimator<TTransformer> where TTransformer : AudioTransformerBase
{
    private readonly IHostEnvironment? _environment;
    private readonly Wav2Vec2TrainingOptions _options;
    private readonly TrainingColumns _columns;

    private protected Wav2Vec2TrainerBase(IHostEnvironment? environment, Wav2Vec2TrainingOptions options, string name, string? transcript = null,
        string? label = null)
    {
        _environment = environment;
        _options = options;
        _columns = new TrainingColumns(name, options.AudioColumnName, options.AudioFolder == null ? null : Path.GetFullPath(options.AudioFolder),
            transcript, label);
    }

    /// <summary>The input shape plus the columns the fitted transformer adds, after checking the input columns (a
    /// missing or mistyped column fails here, with the column named).</summary>
    /// <example><code>
    /// SchemaShape shape = trainer.GetOutputSchema(previousEstimator.GetOutputSchema(inputShape));
    /// </code></example>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _columns.Check(inputSchema);
        return SchemaErrors.WithColumns(inputSchema, OutputColumns());
    }

    /// <summary>
    /// Trains on every row of <paramref name="input"/> (rows without usable audio or label are skipped with a warning in
    /// mlContext.Log) and returns the transformer of the trained model. The run directory holds train_log.jsonl, the
    /// checkpoints, best/ (with validation data) and final/.
    /// </summary>
    /// <example><code>
    /// var transformer = trainer.Fit(data);
    /// mlContext.Model.SaveWav2Vec2(transformer, data.Schema, "model.zip");   // the trained weights inside
    /// </code></example>
    /// <exception cref="OperationCanceledException">The options' token stopped training; the message names the checkpoint.</exception>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _columns.Check(input.Schema);
        if (_options.ValidationData != null)
            _columns.Check(_options.ValidationData.Schema);
        // Everything Fit computes runs on the options' thread count, whatever else runs in the process.
        using IDisposable? threads = _options.ThreadCount is int count ? Threading.Parallelism.Scope(count) : null;
        using var session = new TrainingSession(_environment, _columns.Trainer, _options);
        AudioDataset train = TrainingData.Read(input, _columns, Classes(input.Schema), _options.CancellationToken);
        AudioDataset? valid = _options.ValidationData is { } data
            ? TrainingData.Read(data, _columns, Classes(data.Schema), _options.CancellationToken) : null;
        return Train(session, train, valid, input.Schema);
    }

    /// <summary>The columns of the fitted transformer, for <see cref="GetOutputSchema"/>.</summary>
    private protected abstract IEnumerable<OutputColumn> OutputColumns();

    /// <summary>The class names of a label column, by key value - 1 (classification only).</summary>
    private protected virtual IReadOnlyList<string>? Classes(DataViewSchema schema) => null;

    /// <summary>Builds the model, trains it in <paramref name="session"/> and returns the transformer.</summary>
    private protected abstract TTransformer Train(TrainingSession session, AudioDataset train, AudioDataset? valid, DataViewSchema schema);

    /// <summary>The environment (for the returned transformer's input settings and logs).</summary>
    private protected IHostEnvironment? Environment => _environment;
}
