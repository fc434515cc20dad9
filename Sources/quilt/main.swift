import QuiltCommands

CommandTable.main(invokedAs: CommandLine.arguments.first)
