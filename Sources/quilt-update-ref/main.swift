import QuiltCommands

CommandTable.main(program: "quilt-update-ref")
