"""The command line: build, explain, watch, ui."""
