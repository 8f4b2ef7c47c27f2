"""The command line behind run_search.py: parser, one module per group of subcommands."""
