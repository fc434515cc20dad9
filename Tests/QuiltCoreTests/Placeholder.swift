import QuiltCore
