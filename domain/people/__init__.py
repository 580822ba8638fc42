"""People: pupils, guardians and their bindings, counselors."""
