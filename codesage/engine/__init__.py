"""Interview actors, their supervisor, the event log, checkpoints and recovery."""
