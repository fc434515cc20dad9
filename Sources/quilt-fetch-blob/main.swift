import QuiltCommands

CommandTable.main(program: "quilt-fetch-blob")
