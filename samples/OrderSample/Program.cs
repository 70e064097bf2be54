Console.WriteLine("sample: not built yet");
