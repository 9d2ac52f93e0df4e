using Microsoft.ML;
using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.MLNet;

/// <summary>
/// The shape of a data view's schema, for <see cref="IEstimator{T}.GetOutputSchema"/>: ML.NET (6.0.0) makes one only
/// internally (<c>SchemaShape.Create</c> and the column constructor are not public), so a pipeline could otherwise be
/// checked against a schema only by fitting it.
/// </summary>
/// <example><code>
/// SchemaShape shape = pipeline.GetOutputSchema(data.Schema.ToSchemaShape());   // column errors surface here, no audio read
/// </code></example>
public static class Wav2Vec2SchemaExtensions
{
    /// <summary>The shape of <paramref name="schema"/>: every column's name, kind, item type, key-ness and annotations.</summary>
    public static SchemaShape ToSchemaShape(this DataViewSchema schema) =>
        new(schema.Select(c => MLNetInterop.ShapeColumn(c.Name, c.Type,
            c.Annotations.Schema.Count > 0 ? new SchemaShape(c.Annotations.Schema.Select(a => MLNetInterop.ShapeColumn(a.Name, a.Type))) : null)));
}
