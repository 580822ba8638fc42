"""Organisation: the county's units from township down to team, as an ltree."""
