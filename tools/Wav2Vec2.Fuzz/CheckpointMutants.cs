using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace Wav2Vec2.Fuzz;

/// <summary>
/// Mutants of a safetensors checkpoint and its config.json: header fields (dtype, shape, offsets, metadata, the
/// header length), truncation, bit flips, non-finite weights (F32 and F16), and config sizes far beyond the weights.
/// </summary>
public static class CheckpointMutants
{
    private static readonly string[] Classes = ["safetensors header", "safetensors length", "truncation", "bit flips", "non-finite weights", "config sizes"];

    /// <summary><paramref name="count"/> mutants drawn from <paramref name="seed"/>, cycling through the classes.</summary>
    public static IEnumerable<Mutant> Generate(Fixtures fixtures, int count, int seed)
        => Mutants.Cycle("checkpoint", Classes, count, seed, (kind, r, work) =>
        {
            string model = Fixtures.CopyModel(fixtures.SafeTensorsModel, work);
            string weights = Path.Combine(model, "model.safetensors");
            string subject = kind == "config sizes" ? Path.Combine(model, "config.json") : model;
            if (kind == "config sizes")
                MutateConfig(Path.Combine(model, "config.json"), r);
            else
                File.WriteAllBytes(weights, Mutate(kind, File.ReadAllBytes(weights), r));
            return fixtures.Logits(model, work, subject);
        });

    private static byte[] Mutate(string kind, byte[] file, Random r)
    {
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        JsonObject header = JsonNode.Parse(file.AsSpan(8, (int)headerLength))!.AsObject();
        byte[] data = file[(8 + (int)headerLength)..];
        switch (kind)
        {
            case "safetensors header":
                return Assemble(MutateHeader(header, r), data);
            case "safetensors length":
            {
                // Shift the declared length by a little (a header off by a byte) or a lot.
                long[] deltas = [1, -1, 2, -2, 8, -8, 1L << 40, -(long)headerLength];
                BinaryPrimitives.WriteUInt64LittleEndian(file, headerLength + (ulong)deltas[r.Next(deltas.Length)]);
                return r.Next(2) == 0 ? file : [.. file, .. " "u8.ToArray()];
            }
            case "truncation":
                return file[..r.Next(file.Length)];
            case "bit flips":
                for (int flips = 1 + r.Next(8), f = 0; f < flips; f++)
                {
                    // Half the flips land in the header, where structure lives.
                    int at = r.Next(2) == 0 ? r.Next(8 + (int)headerLength) : r.Next(file.Length);
                    file[at] ^= (byte)(1 << r.Next(8));
                }
                return file;
            default:
                return NonFinite(header, data, r);
        }
    }

    private static JsonObject MutateHeader(JsonObject header, Random r)
    {
        string[] names = [.. header.Select(p => p.Key).Where(k => k != "__metadata__")];
        JsonObject entry = header[names[r.Next(names.Length)]]!.AsObject();
        JsonNode?[] odd = [JsonValue.Create("x"), JsonValue.Create(-1), JsonValue.Create(1L << 40), new JsonArray(), new JsonObject(), null,
            JsonValue.Create(1.5), new JsonArray(JsonValue.Create("a"))];
        JsonNode? Odd() => odd[r.Next(odd.Length)]?.DeepClone();
        switch (r.Next(8))
        {
            case 0: entry["dtype"] = new[] { "F64", "I8", "", "f32", "BF16", "F16", "F32 ", "U8" }[r.Next(8)]; break;
            case 1: entry["shape"] = r.Next(2) == 0 ? Odd() : new JsonArray(JsonValue.Create(r.Next(-2, 5)), JsonValue.Create(1 << r.Next(31))); break;
            case 2: entry["data_offsets"] = r.Next(2) == 0 ? Odd() : new JsonArray(JsonValue.Create(r.Next(-8, 64)), JsonValue.Create(r.Next(0, 1 << 20))); break;
            case 3: header["__metadata__"] = Odd(); break;
            case 4: entry.Remove(new[] { "dtype", "shape", "data_offsets" }[r.Next(3)]); break;
            case 5: header[names[r.Next(names.Length)]] = Odd(); break;
            case 6:
            {
                JsonArray offsets = entry["data_offsets"]!.AsArray();
                offsets[r.Next(2)] = offsets[r.Next(2)]!.GetValue<long>() + r.Next(-4, 5);
                break;
            }
            default: header["extra." + r.Next(100)] = entry.DeepClone(); break;
        }
        return header;
    }

    // One NaN or infinity in one F32 weight, an all-infinite tensor, or the whole file as F16 with one NaN.
    private static byte[] NonFinite(JsonObject header, byte[] data, Random r)
    {
        string[] names = [.. header.Select(p => p.Key).Where(k => k != "__metadata__")];
        string name = names[r.Next(names.Length)];
        long begin = header[name]!["data_offsets"]![0]!.GetValue<long>(), end = header[name]!["data_offsets"]![1]!.GetValue<long>();
        float[] bad = [float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        float value = bad[r.Next(bad.Length)];
        switch (r.Next(3))
        {
            case 0 when end > begin:
                BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan((int)begin + 4 * r.Next((int)(end - begin) / 4)), value);
                return Assemble(header, data);
            case 1:
                for (long at = begin; at < end; at += 4)
                    BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan((int)at), value);
                return Assemble(header, data);
            default:
                return AsHalf(header, data, name, r);
        }
    }

    // The checkpoint converted to F16 (as published half-precision models are), with one NaN in tensor `name`.
    private static byte[] AsHalf(JsonObject header, byte[] data, string name, Random r)
    {
        var half = new List<byte>();
        foreach (var (key, node) in header.ToList())
        {
            if (key == "__metadata__")
                continue;
            long begin = node!["data_offsets"]![0]!.GetValue<long>(), end = node["data_offsets"]![1]!.GetValue<long>();
            long start = half.Count;
            int nan = key == name && end > begin ? r.Next((int)(end - begin) / 4) : -1;
            for (int i = 0; i < (end - begin) / 4; i++)
            {
                Half value = i == nan ? Half.NaN : (Half)BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan((int)begin + 4 * i));
                half.AddRange(BitConverter.GetBytes(BitConverter.HalfToUInt16Bits(value)));
            }
            node["dtype"] = "F16";
            node["data_offsets"] = new JsonArray(JsonValue.Create(start), JsonValue.Create((long)half.Count));
        }
        return Assemble(header, [.. half]);
    }

    private static byte[] Assemble(JsonObject header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        return [.. length, .. json, .. data];
    }

    // A size far beyond what the weights hold (the probe's 10^6 layers, 5 * 10^6 wide feed-forward), or a little beyond.
    private static void MutateConfig(string path, Random r)
    {
        JsonObject config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        (string Field, int[] Values)[] sizes =
        [
            ("num_hidden_layers", [1_000_000, 1000, 3]), ("intermediate_size", [5_000_000, 65]), ("hidden_size", [1 << 20, 64]),
            ("num_conv_pos_embeddings", [1 << 24, 17]),
        ];
        if (r.Next(5) == 0)
            config["conv_dim"] = new JsonArray([.. Enumerable.Repeat(24, 1000).Select(v => (JsonNode)v)]);
        else
        {
            var (field, values) = sizes[r.Next(sizes.Length)];
            config[field] = values[r.Next(values.Length)];
        }
        File.WriteAllText(path, config.ToJsonString());
    }
}
