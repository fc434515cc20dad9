import QuiltCommands

CommandTable.main(program: "quilt-cat-manifest")
