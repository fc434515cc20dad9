import QuiltCommands

CommandTable.main(program: "quilt-show-ref")
