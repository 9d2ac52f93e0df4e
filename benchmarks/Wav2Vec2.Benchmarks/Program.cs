using Wav2Vec2.Benchmarks;
return BenchmarkApp.Run(args);
