import QuiltCommands

CommandTable.main(program: "quilt")
