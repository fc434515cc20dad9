import QuiltCommands

CommandTable.main(program: "quilt-hash-object")
