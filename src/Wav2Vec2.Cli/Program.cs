using Wav2Vec2.Cli;

return CliApp.Run(args, Console.Out, Console.Error);
