"""What every protocol core shares: event base types, the header-block parser, faults."""
