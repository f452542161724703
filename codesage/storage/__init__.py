"""Postgres repositories and migrations, Redis live state, embedded servers."""
