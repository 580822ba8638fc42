"""Activities (活动): organised by a unit, signed up for with points, attended for a reward."""
