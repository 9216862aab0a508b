"""One module per library; each exposes one `...Integration` class with `setup(client)`."""
