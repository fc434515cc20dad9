import QuiltCommands

CommandTable.main(program: "quilt-write-manifest")
