using Jepa.Cli;

return await CliApp.RunAsync(args);
