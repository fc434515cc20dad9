import QuiltCommands

CommandTable.main(program: "quilt-upload-blob")
