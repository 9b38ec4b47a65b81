"""What several test modules share: fakes, fixture files, programs, the CLI runner."""
