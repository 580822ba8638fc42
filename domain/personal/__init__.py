"""Personal data: fields encrypted at rest, found by keyed hash, shown masked."""
