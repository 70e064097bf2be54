using EventStore.Providers.Bench;

return await BenchApp.RunAsync(args, Console.Out, CancellationToken.None);
