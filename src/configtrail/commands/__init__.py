"""One module per `configtrail` subcommand; each has `register(subparsers)`."""
