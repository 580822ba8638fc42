"""Spreadsheets the counties already keep: templates, exports and (next) imports."""
