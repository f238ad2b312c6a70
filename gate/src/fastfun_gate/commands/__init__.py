"""One module per subcommand, each a class with ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args) -> exit status``; ``options`` holds what several of them share."""
