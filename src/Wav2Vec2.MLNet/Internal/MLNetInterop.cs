using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>
/// The two things ML.NET (5.0.1 and 6.0.0) keeps from outside assemblies that an estimator needs (see shared DESIGN.md): the
/// environment behind a catalog (for mlContext.Log) and a <see cref="SchemaShape.Column"/> constructor (for
/// <see cref="IEstimator{T}.GetOutputSchema"/>). Both are reached by reflection here and nowhere else; a test pins them.
/// </summary>
internal static class MLNetInterop
{
    private static readonly ConstructorInfo ShapeColumnConstructor = typeof(SchemaShape.Column).GetConstructor(
        BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null,
        [typeof(string), typeof(SchemaShape.Column.VectorKind), typeof(DataViewType), typeof(bool), typeof(SchemaShape)], null)
        ?? throw new MissingMethodException("SchemaShape.Column has no (name, kind, type, isKey, annotations) constructor: " +
                                            "this Microsoft.ML version is not supported (5.0.1 and 6.0.0 are)");

    /// <summary>The environment (an <see cref="MLContext"/>) behind a catalog, or null if it cannot be reached.</summary>
    public static IHostEnvironment? Environment(object catalog)
    {
        if (catalog is IHostEnvironment environment)
            return environment;
        // Catalogs implement the internal IInternalCatalog { IHostEnvironment Environment }.
        foreach (Type type in catalog.GetType().GetInterfaces())
            if (type.Name == "IInternalCatalog" && type.GetProperty("Environment")?.GetValue(catalog) is IHostEnvironment env)
                return env;
        return null;
    }

    /// <summary>A schema-shape column (the constructor is internal in ML.NET).</summary>
    public static SchemaShape.Column ShapeColumn(string name, DataViewType type, SchemaShape? annotations = null)
    {
        (SchemaShape.Column.VectorKind kind, DataViewType item) = type switch
        {
            VectorDataViewType { IsKnownSize: true } v => (SchemaShape.Column.VectorKind.Vector, v.ItemType),
            VectorDataViewType v => (SchemaShape.Column.VectorKind.VariableVector, v.ItemType),
            _ => (SchemaShape.Column.VectorKind.Scalar, type),
        };
        // A key column's shape has its raw type as item type, as SchemaShape.Create writes it.
        bool key = item is KeyDataViewType;
        if (item is KeyDataViewType k)
            item = k.RawType == typeof(uint) ? NumberDataViewType.UInt32 : k.RawType == typeof(ulong) ? NumberDataViewType.UInt64
                : k.RawType == typeof(ushort) ? NumberDataViewType.UInt16 : NumberDataViewType.Byte;
        return (SchemaShape.Column)ShapeColumnConstructor.Invoke([name, kind, item, key, annotations]);
    }

    /// <summary>Writes an informational line to mlContext.Log (nothing when there is no environment).</summary>
    public static void Info(IChannelProvider? environment, string channel, string message)
    {
        if (environment == null)
            return;
        using IChannel ch = environment.Start(channel);
        ch.Info(MessageSensitivity.None, message);
    }

    /// <summary>Writes a warning to mlContext.Log (nothing when there is no environment).</summary>
    public static void Warning(IChannelProvider? environment, string channel, string message)
    {
        if (environment == null)
            return;
        using IChannel ch = environment.Start(channel);
        ch.Warning(MessageSensitivity.None, message);
    }
}
