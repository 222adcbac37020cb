VALUE = "from git"
