import QuiltCommands

CommandTable.main(program: "quilt-rev-parse")
