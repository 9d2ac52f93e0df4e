// Transcription with an exported model on a GPU through ONNX Runtime's CUDA provider (the CPU provider when there is
// no usable GPU). The model directory gives the vocabulary and the input preparation; the .onnx holds the network.
// Export: w2v2 export-onnx --model facebook/wav2vec2-base-960h --out asr.onnx
// Run:    dotnet run -c Release --project examples/OnnxGpu -- asr.onnx MODEL_DIR speech.wav [CUDA_DEVICE]
using Microsoft.ML.OnnxRuntime;
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.Models;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: OnnxGpu MODEL.onnx MODEL_DIR AUDIO [CUDA_DEVICE]");
    return 2;
}
string onnx = args[0], modelDirectory = args[1], audio = args[2];
int device = args.Length > 3 ? int.Parse(args[3]) : 0;

var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
string provider = "CPU";
try
{
    options.AppendExecutionProvider_CUDA(device);
    provider = $"CUDA device {device}";
}
catch (OnnxRuntimeException e)
{
    Console.Error.WriteLine($"CUDA is not available ({e.Message.Split('\n')[0]}); running on the CPU");
}
using var session = new InferenceSession(onnx, options);

var preprocessor = InputValuesPreprocessor.Load(Path.Combine(modelDirectory, "preprocessor_config.json"));
var decoder = new GreedyCtcDecoder(CtcTokenizer.Load(modelDirectory));
float[] input = preprocessor.Prepare(AudioFile.Read(audio));
var feeds = new Dictionary<string, OrtValue> { ["input_values"] = OrtValue.CreateTensorValueFromMemory(input, [1, input.Length]) };
if (session.InputMetadata.ContainsKey("attention_mask"))
    feeds["attention_mask"] = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, input.Length).ToArray(), [1, input.Length]);
using var results = session.Run(new RunOptions(), [.. feeds.Keys], [.. feeds.Values], ["logits"]);
long[] shape = results[0].GetTensorTypeAndShape().Shape;                       // (1, frames, vocabulary)
Console.WriteLine($"[{provider}] {decoder.Decode(results[0].GetTensorDataAsSpan<float>(), (int)shape[1])}");
return 0;
