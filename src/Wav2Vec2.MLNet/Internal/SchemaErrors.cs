using Microsoft.ML;
using Microsoft.ML.Data;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>Schema checks with ML.NET's wording, raised at GetOutputSchema/Fit time (not deep in a cursor).</summary>
internal static class SchemaErrors
{
    public static ArgumentOutOfRangeException MissingColumn(string transform, string column) =>
        new("inputSchema", $"{transform}: could not find input column '{column}'");

    public static ArgumentOutOfRangeException WrongType(string transform, string column, bool acceptsSamples, string actual) =>
        Mismatch(transform, column, acceptsSamples ? "Text (an audio file path) or a vector of Single (16 kHz mono samples)"
            : "Text (an audio file path)", actual);

    public static ArgumentOutOfRangeException Mismatch(string transform, string column, string expected, string actual) =>
        new("inputSchema", $"{transform}: schema mismatch for input column '{column}': expected {expected}, got {actual}");

    /// <summary>Checks an audio column (Text paths, or 16 kHz samples when accepted); true when it holds paths.</summary>
    public static bool CheckAudio(string transform, DataViewSchema schema, string name, bool acceptsSamples, out DataViewSchema.Column column)
    {
        column = schema.GetColumnOrNull(name) ?? throw MissingColumn(transform, name);
        bool path = column.Type is TextDataViewType;
        bool samples = column.Type is VectorDataViewType { ItemType: var item } && item == NumberDataViewType.Single;
        if (!path && !(samples && acceptsSamples))
            throw WrongType(transform, name, acceptsSamples, column.Type.ToString() ?? "?");
        return path;
    }

    /// <summary>The same check on an estimator's schema shape.</summary>
    public static void CheckAudio(string transform, SchemaShape shape, string name, bool acceptsSamples)
    {
        SchemaShape.Column column = Find(transform, shape, name);
        bool text = column.Kind == SchemaShape.Column.VectorKind.Scalar && column.ItemType is TextDataViewType;
        bool samples = column.Kind != SchemaShape.Column.VectorKind.Scalar && column.ItemType == NumberDataViewType.Single;
        if (!text && !(samples && acceptsSamples))
            throw WrongType(transform, name, acceptsSamples, Describe(column));
    }

    /// <summary>Checks that a column exists and that <paramref name="ok"/> accepts its type, described as <paramref name="expected"/>.</summary>
    public static DataViewSchema.Column Check(string transform, DataViewSchema schema, string name, string expected, Func<DataViewType, bool> ok)
    {
        DataViewSchema.Column column = schema.GetColumnOrNull(name) ?? throw MissingColumn(transform, name);
        return ok(column.Type) ? column : throw Mismatch(transform, name, expected, column.Type.ToString() ?? "?");
    }

    /// <summary>The same check on a schema shape (scalar columns only).</summary>
    public static SchemaShape.Column Check(string transform, SchemaShape shape, string name, string expected, Func<DataViewType, bool> ok) =>
        Check(transform, shape, name, expected, (_, type) => ok(type));

    /// <summary>The same check on a schema shape, seeing the column too (whether it is a key).</summary>
    public static SchemaShape.Column Check(string transform, SchemaShape shape, string name, string expected, Func<SchemaShape.Column, DataViewType, bool> ok)
    {
        SchemaShape.Column column = Find(transform, shape, name);
        return column.Kind == SchemaShape.Column.VectorKind.Scalar && ok(column, column.ItemType) ? column
            : throw Mismatch(transform, name, expected, Describe(column));
    }

    /// <summary>The input shape with <paramref name="outputs"/> added (or replacing columns of the same name).</summary>
    public static SchemaShape WithColumns(SchemaShape inputShape, IEnumerable<OutputColumn> outputs)
    {
        var columns = inputShape.ToDictionary(c => c.Name);
        foreach (OutputColumn output in outputs)
            columns[output.Name] = MLNetInterop.ShapeColumn(output.Name, output.Type, output.Annotations?.Schema.Count > 0
                ? new SchemaShape(output.Annotations.Schema.Select(a => MLNetInterop.ShapeColumn(a.Name, a.Type))) : null);
        return new SchemaShape(columns.Values);
    }

    private static SchemaShape.Column Find(string transform, SchemaShape shape, string name)
    {
        SchemaShape.Column? column = shape.FirstOrDefault(c => c.Name == name);
        return column?.Name == null ? throw MissingColumn(transform, name) : column.Value;
    }

    private static string Describe(SchemaShape.Column column) =>
        (column.IsKey ? $"Key<{column.ItemType}>" : column.ItemType.ToString()) + (column.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : " vector");
}
