// Every test sees the shared helpers (fixtures, random data, closeness assertions, the tiny test configs).
global using Wav2Vec2.Tests.Support;
global using static Wav2Vec2.Tests.Support.TestSupport;
