"""gigroom's order engine: commands in, events out, policies as data. No I/O here."""
